/* Loopback TCP benchmarks; a forked server on 127.0.0.1 (port picked by the kernel).
 *   net rr N      N connections: socket, connect, send 64 bytes, receive 64, close.
 *                 Prints ns per connection.
 *   net bulk MIB  one connection; send() MIB MiB in 64 KiB chunks, the server
 *                 recv()s them all and answers one byte. Prints ms for the transfer.
 * The client closes with SO_LINGER 0 so no TIME_WAIT piles up across runs.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static void die(const char *what) {
  perror(what);
  exit(2);
}

static int recv_all(int fd, char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = recv(fd, buf + got, len - got, 0);
    if (r <= 0) return -1;
    got += r;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int bulk = strcmp(argv[1], "bulk") == 0;
  long n = arg_n(argc, argv, 2, 1000);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0) die("socket");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(l, (void *)&a, sizeof a) < 0) die("bind");
  if (listen(l, 64) < 0) die("listen");
  if (getsockname(l, (void *)&a, &al) < 0) die("getsockname");
  pid_t srv = fork();
  if (srv == 0) {
    static char buf[CHUNK];
    for (;;) {
      int c = accept(l, NULL, NULL);
      if (c < 0) _exit(1);
      if (bulk) {
        ssize_t r;
        while ((r = recv(c, buf, sizeof buf, 0)) > 0) {
        }
        if (send(c, "k", 1, 0) != 1) _exit(1);
        close(c);
        _exit(0);
      }
      if (recv_all(c, buf, 64) == 0) send(c, buf, 64, 0);
      recv(c, buf, 1, 0); /* the client's close */
      close(c);
    }
  }
  close(l);
  char msg[64];
  memset(msg, 'x', sizeof msg);
  struct linger lg = {1, 0};
  long long t0, t1;
  if (bulk) {
    static char buf[CHUNK];
    memset(buf, 'y', sizeof buf);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (void *)&a, sizeof a) < 0) die("connect");
    long chunks = n * (1024 * 1024 / CHUNK);
    t0 = now_ns();
    for (long i = 0; i < chunks; i++)
      if (send(fd, buf, CHUNK, 0) != CHUNK) die("send");
    shutdown(fd, SHUT_WR);
    char k;
    if (recv(fd, &k, 1, 0) != 1) die("recv");
    t1 = now_ns();
    close(fd);
    printf("%.2f\n", (double)(t1 - t0) / 1e6);
  } else {
    char back[64];
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) die("socket");
      if (connect(fd, (void *)&a, sizeof a) < 0) die("connect");
      if (send(fd, msg, sizeof msg, 0) != sizeof msg) die("send");
      if (recv_all(fd, back, sizeof back) < 0) die("recv");
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      close(fd);
    }
    t1 = now_ns();
    printf("%.2f\n", (double)(t1 - t0) / n);
  }
  kill(srv, SIGKILL);
  waitpid(srv, NULL, 0);
  return 0;
}
