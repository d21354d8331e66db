// N-API surface of the native core. Everything here runs on Node's main thread,
// the thread that attached with ptrace; calls into JavaScript are synchronous.
// The only other thread is the waker, which blocks in waitid(WNOWAIT) while
// JavaScript awaits an asynchronous module handler, and wakes the event loop.
#include <napi.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "fileio.h"
#include "filter.h"
#include "memory.h"
#include "spawn.h"
#include "tracer.h"

namespace {

vview::Tracer* g_tracer = nullptr;

vview::Tracer& T() {
  if (!g_tracer) g_tracer = new vview::Tracer();
  return *g_tracer;
}

// An optional trailing layer argument (joined views, src/vm/layers.ts):
// selects that layer's tables for the call; 0 (this monitor's own) without it.
struct LayerScope {
  explicit LayerScope(const Napi::Value& v) {
    int l = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
    if (l < 0 || l >= T().layer_count()) l = 0;
    T().select(l);
  }
  ~LayerScope() { T().select(0); }
};

uint64_t ToU64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return (uint64_t)(int64_t)v.As<Napi::Number>().Int64Value();
}

int GetInt(const Napi::Object& o, const char* k, int dflt) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : dflt;
}

int64_t GetI64(const Napi::Object& o, const char* k, int64_t dflt) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : dflt;
}

// configure({ routes: [[nr, bits]], prefixes: [{path, module, nrs, direct}], objects: [[dev, ino, module]], aliases: [[host, view]] })
// A route's path and fd arguments come from the generated syscall description.
Napi::Value Configure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object cfg = info[0].As<Napi::Object>();
  LayerScope scope(info[1]);
  std::vector<std::pair<int, uint8_t>> routes;
  Napi::Array rs = cfg.Get("routes").As<Napi::Array>();
  for (uint32_t i = 0; i < rs.Length(); i++) {
    Napi::Array r = rs.Get(i).As<Napi::Array>();
    routes.emplace_back(r.Get(0u).As<Napi::Number>().Int32Value(), (uint8_t)r.Get(1u).As<Napi::Number>().Uint32Value());
  }
  T().set_routes(routes);
  Napi::Value pv = cfg.Get("prefixes");
  if (pv.IsArray()) {
    Napi::Array ps = pv.As<Napi::Array>();
    for (uint32_t i = 0; i < ps.Length(); i++) {
      Napi::Object p = ps.Get(i).As<Napi::Object>();
      auto ints = [&](const char* key) {
        std::vector<int> v;
        Napi::Value nv = p.Get(key);
        if (nv.IsArray()) {
          Napi::Array na = nv.As<Napi::Array>();
          for (uint32_t j = 0; j < na.Length(); j++) v.push_back(na.Get(j).As<Napi::Number>().Int32Value());
        }
        return v;
      };
      T().add_prefix(p.Get("path").As<Napi::String>(), GetInt(p, "module", -1), ints("nrs"), ints("direct"));
    }
  }
  // objects: [[dev, ino, module]]: path calls reaching that object by any name go to module.
  Napi::Value ov = cfg.Get("objects");
  if (ov.IsArray()) {
    Napi::Array os = ov.As<Napi::Array>();
    std::map<std::pair<uint64_t, uint64_t>, int> objects;
    for (uint32_t i = 0; i < os.Length(); i++) {
      Napi::Array o = os.Get(i).As<Napi::Array>();
      bool lossless = true;
      uint64_t dev = o.Get(0u).As<Napi::BigInt>().Uint64Value(&lossless);
      uint64_t ino = o.Get(1u).As<Napi::BigInt>().Uint64Value(&lossless);
      objects[{dev, ino}] = o.Get(2u).As<Napi::Number>().Int32Value();
    }
    T().set_objects(std::move(objects));
  }
  Napi::Value av = cfg.Get("aliases");
  if (av.IsArray()) {
    Napi::Array as = av.As<Napi::Array>();
    for (uint32_t i = 0; i < as.Length(); i++) {
      Napi::Array a = as.Get(i).As<Napi::Array>();
      T().add_alias(a.Get((uint32_t)0).As<Napi::String>(), a.Get(1).As<Napi::String>());
    }
  }
  T().configured();
  return env.Undefined();
}

// mknod(path, mode, dev) -> 0 or -errno. Node has no mknod/mkfifo; a mount's
// scratch copy needs fifos.
Napi::Value Mknod(const Napi::CallbackInfo& info) {
  std::string p = info[0].As<Napi::String>();
  mode_t mode = (mode_t)info[1].As<Napi::Number>().Uint32Value();
  dev_t dev = (dev_t)info[2].As<Napi::Number>().Int64Value();
  return Napi::Number::New(info.Env(), mknod(p.c_str(), mode, dev) == 0 ? 0 : -errno);
}

// utimens(path, atimeNs, mtimeNs) -> 0 or -errno; never follows a final
// symlink. Node's utimes goes through a double of seconds and loses nanoseconds.
Napi::Value Utimens(const Napi::CallbackInfo& info) {
  std::string p = info[0].As<Napi::String>();
  bool lossless = true;
  int64_t a = info[1].As<Napi::BigInt>().Int64Value(&lossless);
  int64_t m = info[2].As<Napi::BigInt>().Int64Value(&lossless);
  auto ts = [](int64_t ns) {
    struct timespec t;
    t.tv_sec = ns / 1000000000;
    t.tv_nsec = ns % 1000000000;
    if (t.tv_nsec < 0) {
      t.tv_nsec += 1000000000;
      t.tv_sec -= 1;
    }
    return t;
  };
  struct timespec times[2] = {ts(a), ts(m)};
  return Napi::Number::New(info.Env(), utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno);
}

Napi::Value ClaimInode(const Napi::CallbackInfo& info) {
  LayerScope scope(info[3]);
  T().claim_inode(ToU64(info[0]), ToU64(info[1]), info[2].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// statView({ realUid, realGid, fakeUid, fakeGid }): fake ownership for the stat family.
Napi::Value StatViewConfigure(const Napi::CallbackInfo& info) {
  Napi::Object o = info[0].As<Napi::Object>();
  LayerScope scope(info[1]);
  auto& v = T().stat_view();
  v.enabled = true;
  v.real_uid = (uint32_t)GetI64(o, "realUid", 0);
  v.real_gid = (uint32_t)GetI64(o, "realGid", 0);
  v.fake_uid = (uint32_t)GetI64(o, "fakeUid", 0);
  v.fake_gid = (uint32_t)GetI64(o, "fakeGid", 0);
  return info.Env().Undefined();
}

// statOwner(dev, ino, { uid, gid, perm, type, rdev } | null): a recorded owner (null: none).
// statShow({ dev, ino, mode, uid, gid, rdev }) -> { mode, uid, gid, rdev }: what the
// stat view shows for these metadata (StatView::apply: the one copy of the rule).
Napi::Value StatShow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  struct stat st;
  memset(&st, 0, sizeof st);
  st.st_dev = (dev_t)ToU64(o.Get("dev"));
  st.st_ino = (ino_t)ToU64(o.Get("ino"));
  st.st_mode = (mode_t)GetI64(o, "mode", 0);
  st.st_uid = (uid_t)GetI64(o, "uid", 0);
  st.st_gid = (gid_t)GetI64(o, "gid", 0);
  st.st_rdev = (dev_t)ToU64(o.Get("rdev"));
  if (T().stat_view().enabled) T().stat_view().apply(st);
  Napi::Object r = Napi::Object::New(env);
  r.Set("mode", Napi::Number::New(env, st.st_mode));
  r.Set("uid", Napi::Number::New(env, st.st_uid));
  r.Set("gid", Napi::Number::New(env, st.st_gid));
  r.Set("rdev", Napi::BigInt::New(env, (uint64_t)st.st_rdev));
  return r;
}

Napi::Value StatOwner(const Napi::CallbackInfo& info) {
  uint64_t dev = ToU64(info[0]), ino = ToU64(info[1]);
  LayerScope scope(info[3]);
  if (!info[2].IsObject()) {
    T().stat_view().erase(dev, ino);
    return info.Env().Undefined();
  }
  Napi::Object o = info[2].As<Napi::Object>();
  vview::OwnerOverride ov;
  ov.uid = GetI64(o, "uid", -1);
  ov.gid = GetI64(o, "gid", -1);
  ov.perm = (int32_t)GetInt(o, "perm", -1);
  ov.type = (uint32_t)GetInt(o, "type", 0);
  Napi::Value rdev = o.Get("rdev");
  ov.rdev = rdev.IsBigInt() || rdev.IsNumber() ? ToU64(rdev) : 0;
  T().stat_view().set(dev, ino, ov);
  return info.Env().Undefined();
}

std::vector<std::string> Strings(const Napi::Value& v) {
  std::vector<std::string> out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>());
  return out;
}

// spawn({ candidates, argv, traced: [nr...], tracedIfArg?: [[nr, arg, eq?]...], filter: bool, notFound, denied }) -> pid
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  vview::SpawnRequest req;
  req.candidates = Strings(o.Get("candidates"));
  req.argv = Strings(o.Get("argv"));
  req.not_found_msg = o.Get("notFound").As<Napi::String>();
  req.denied_prefix = o.Get("denied").As<Napi::String>();
  req.ptrace_options = T().ptrace_options();
  req.join_layer = GetInt(o, "joinLayer", 0);
  Napi::Array inh = o.Get("inheritFds").As<Napi::Array>();
  for (uint32_t i = 0; i < inh.Length(); i++) req.inherit_fds.push_back(inh.Get(i).As<Napi::Number>().Int32Value());
  if (o.Get("filter").ToBoolean()) {
    std::vector<uint32_t> nrs;
    Napi::Array t = o.Get("traced").As<Napi::Array>();
    for (uint32_t i = 0; i < t.Length(); i++) nrs.push_back(t.Get(i).As<Napi::Number>().Uint32Value());
    std::vector<vview::ArgRoute> cond;
    Napi::Value c = o.Get("tracedIfArg");
    if (c.IsArray()) {
      Napi::Array ca = c.As<Napi::Array>();
      for (uint32_t i = 0; i < ca.Length(); i++) {
        Napi::Array pair = ca.Get(i).As<Napi::Array>();
        vview::ArgRoute r{pair.Get(0u).As<Napi::Number>().Uint32Value(), pair.Get(1u).As<Napi::Number>().Uint32Value()};
        if (pair.Length() > 2) r.eq = pair.Get(2u).As<Napi::Number>().Int64Value();
        cond.push_back(r);
      }
    }
    req.filter = vview::build_filter(nrs, cond, o.Get("foreignAllowed").ToBoolean());
  }
  std::string error;
  pid_t pid = vview::spawn_traced(req, error);
  if (pid < 0) {
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  T().adopt_root(pid);
  return Napi::Number::New(env, pid);
}

// join(fd) -> the layer number the monitor tracing this process gave the
// view served over socket fd, or -errno (-EINVAL: no monitor joins us).
Napi::Value Join(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  long r = prctl((int)vview::kJoinPrctl, vview::kJoinOpen, (unsigned long)fd, 0, 0);
  return Napi::Number::New(info.Env(), r < 0 ? -errno : r);
}

// layerSize(layer) -> the live processes in a joined layer (and the layers inside it).
Napi::Value LayerSize(const Napi::CallbackInfo& info) {
  int l = info[0].As<Napi::Number>().Int32Value();
  int n = l > 0 && l < T().layer_count() ? T().layer(l).processes : 0;
  return Napi::Number::New(info.Env(), n);
}

// socketPair() -> [fd, fd]: a private stream channel (close-on-exec), for join().
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int sv[2];
  Napi::Env env = info.Env();
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return Napi::Number::New(env, -errno);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, sv[0]));
  a.Set(1u, Napi::Number::New(env, sv[1]));
  return a;
}

Napi::Value BigArgs(Napi::Env env, const uint64_t* args) {
  Napi::Array a = Napi::Array::New(env, 6);
  for (uint32_t i = 0; i < 6; i++) a.Set(i, Napi::BigInt::New(env, args[i]));
  return a;
}

// next(block) -> event object
Napi::Value Next(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool block = info[0].ToBoolean();
  vview::Event ev;
  int r = T().next(block, ev);
  if (r < 0) {
    Napi::Error::New(env, std::string("waitpid: ") + strerror(-r)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", Napi::Number::New(env, ev.type));
  if (ev.type == vview::kEventNone || ev.type == vview::kEventDone) return o;
  o.Set("tid", Napi::Number::New(env, ev.tid));
  o.Set("pid", Napi::Number::New(env, ev.tgid));
  o.Set("layer", Napi::Number::New(env, ev.layer));
  switch (ev.type) {
    case vview::kEventSyscall: {
      o.Set("nr", Napi::Number::New(env, ev.nr));
      o.Set("args", BigArgs(env, ev.args));
      o.Set("route", Napi::Number::New(env, ev.route));
      Napi::Array ps = Napi::Array::New(env, ev.paths.size());
      for (size_t i = 0; i < ev.paths.size(); i++) {
        Napi::Object p = Napi::Object::New(env);
        const auto& pr = ev.paths[i];
        p.Set("raw", Napi::String::New(env, pr.raw));
        if (!pr.error) p.Set("canonical", Napi::String::New(env, pr.canonical));
        else if (pr.module >= 0) p.Set("error", Napi::Number::New(env, pr.error));
        if (!pr.host.empty()) p.Set("host", Napi::String::New(env, pr.host));
        if (pr.lexical) p.Set("lexical", Napi::Boolean::New(env, true));
        p.Set("module", Napi::Number::New(env, pr.module));
        ps.Set((uint32_t)i, p);
      }
      o.Set("paths", ps);
      Napi::Array fs = Napi::Array::New(env, ev.fds.size());
      for (size_t i = 0; i < ev.fds.size(); i++) {
        Napi::Object f = Napi::Object::New(env);
        f.Set("fd", Napi::Number::New(env, ev.fds[i].fd));
        f.Set("module", Napi::Number::New(env, ev.fds[i].module));
        f.Set("dev", Napi::BigInt::New(env, ev.fds[i].dev));
        f.Set("ino", Napi::BigInt::New(env, ev.fds[i].ino));
        fs.Set((uint32_t)i, f);
      }
      o.Set("fds", fs);
      o.Set("scratchTop", Napi::BigInt::New(env, ev.scratch_top));
      break;
    }
    case vview::kEventSyscallExit:
      o.Set("nr", Napi::Number::New(env, ev.nr));
      o.Set("args", BigArgs(env, ev.args));
      o.Set("ret", Napi::Number::New(env, (double)ev.ret));
      break;
    case vview::kEventSpawn:
      o.Set("child", Napi::Number::New(env, ev.child));
      o.Set("thread", Napi::Boolean::New(env, ev.thread));
      break;
    case vview::kEventExec:
      o.Set("oldTid", Napi::Number::New(env, ev.old_tid));
      break;
    case vview::kEventExit:
      o.Set("status", Napi::Number::New(env, ev.status));
      o.Set("last", Napi::Boolean::New(env, ev.last));
      break;
    case vview::kEventJoin:
      o.Set("parent", Napi::Number::New(env, ev.parent));
      o.Set("fd", Napi::Number::New(env, ev.fd));
      break;
    default:
      break;
  }
  return o;
}

// resume(tid, { kind, value?, wantExit?, args?: [[i, bigint]], strings?: [[i, string]], hostPaths?: mask })
// -> 0 or -errno. One call per stop: native code writes the strings itself.
Napi::Value Resume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  vview::Action a;
  pid_t tid = info[0].As<Napi::Number>().Int32Value();
  Napi::Object o = info[1].As<Napi::Object>();
  a.kind = (vview::ResumeKind)GetInt(o, "kind", vview::kResumeContinue);
  Napi::Value v = o.Get("value");
  a.value = v.IsBigInt() ? (int64_t)ToU64(v) : v.IsNumber() ? v.As<Napi::Number>().Int64Value() : 0;
  a.want_exit = o.Get("wantExit").ToBoolean();
  a.host_paths = (uint32_t)GetInt(o, "hostPaths", 0);
  Napi::Value st = o.Get("scratchTop");
  if (st.IsBigInt() || st.IsNumber()) a.scratch_top = ToU64(st);
  Napi::Value av = o.Get("args");
  if (av.IsArray()) {
    Napi::Array sa = av.As<Napi::Array>();
    for (uint32_t i = 0; i < sa.Length(); i++) {
      Napi::Array p = sa.Get(i).As<Napi::Array>();
      a.set_args.emplace_back(p.Get(0u).As<Napi::Number>().Int32Value(), ToU64(p.Get(1u)));
    }
  }
  Napi::Value sv = o.Get("strings");
  if (sv.IsArray()) {
    Napi::Array sa = sv.As<Napi::Array>();
    for (uint32_t i = 0; i < sa.Length(); i++) {
      Napi::Array p = sa.Get(i).As<Napi::Array>();
      Napi::Value str = p.Get(1u);
      std::string bytes = str.IsBuffer() ? std::string(str.As<Napi::Buffer<char>>().Data(), str.As<Napi::Buffer<char>>().Length())
                                         : str.As<Napi::String>().Utf8Value();
      a.set_strings.emplace_back(p.Get(0u).As<Napi::Number>().Int32Value(), std::move(bytes));
    }
  }
  return Napi::Number::New(env, T().resume(tid, a));
}

// viewPath(hostPath) -> the view's path for a host path below an aliased
// directory (a mount's content), or undefined (Tracer::alias: one copy of the map).
Napi::Value ViewPath(const Napi::CallbackInfo& info) {
  std::string p = info[0].As<Napi::String>();
  if (!T().alias(p)) return info.Env().Undefined();
  return Napi::String::New(info.Env(), p);
}

// abi() -> the values compiled in from native/generated/ (test/abi.test.ts
// compares them with src/vm/abi.ts and the syscall description).
Napi::Value Abi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto n = [&](double v) { return Napi::Number::New(env, v); };
  Napi::Object ev = Napi::Object::New(env);
  ev.Set("None", n(vview::kEventNone)); ev.Set("Done", n(vview::kEventDone)); ev.Set("Syscall", n(vview::kEventSyscall));
  ev.Set("SyscallExit", n(vview::kEventSyscallExit)); ev.Set("Spawn", n(vview::kEventSpawn)); ev.Set("Exec", n(vview::kEventExec));
  ev.Set("Exit", n(vview::kEventExit)); ev.Set("Foreign", n(vview::kEventForeign)); ev.Set("Join", n(vview::kEventJoin));
  o.Set("EventType", ev);
  Napi::Object rk = Napi::Object::New(env);
  rk.Set("Continue", n(vview::kResumeContinue)); rk.Set("Return", n(vview::kResumeReturn)); rk.Set("Restart", n(vview::kResumeRestart));
  o.Set("ResumeKind", rk);
  Napi::Object rb = Napi::Object::New(env);
  rb.Set("Name", n(vview::kRouteName)); rb.Set("Path", n(vview::kRoutePath)); rb.Set("Fd", n(vview::kRouteFd));
  rb.Set("Cwd", n(vview::kRouteCwd)); rb.Set("Stat", n(vview::kRouteStat));
  rb.Set("Emu", n(vview::kRouteEmu)); rb.Set("Exec", n(vview::kRouteExec));
  o.Set("RouteBits", rb);
  o.Set("openChanges", n((double)vview::kOpenChanges));
  // The description as native code reads it, by number.
  Napi::Array table = Napi::Array::New(env);
  uint32_t k = 0;
  for (long nr = 0; nr < 4096; nr++) {
    const vview::SyscallDesc* d = vview::syscall_desc(nr);
    if (!d) continue;
    Napi::Object r = Napi::Object::New(env);
    r.Set("nr", n(d->nr));
    r.Set("name", Napi::String::New(env, d->name));
    r.Set("effect", n(d->effect));
    r.Set("statKind", n(d->stat_kind));
    r.Set("accessMode", n(d->access_mode));
    Napi::Array ps = Napi::Array::New(env, d->npaths);
    for (uint32_t i = 0; i < d->npaths; i++) {
      const vview::PathSpec& p = d->paths[i];
      Napi::Object po = Napi::Object::New(env);
      po.Set("arg", n(p.arg)); po.Set("dirfd", n(p.dirfd)); po.Set("last", n(p.last)); po.Set("flags", n(p.flags));
      auto flag = [&](const vview::FlagBit& f) {
        Napi::Array a = Napi::Array::New(env, 2);
        a.Set(0u, n(f.arg));
        a.Set(1u, n((double)f.bit));
        return a;
      };
      po.Set("nofollow", flag(p.nofollow)); po.Set("follow", flag(p.follow)); po.Set("emptyPath", flag(p.empty_path));
      po.Set("nullMeansFd", Napi::Boolean::New(env, p.null_means_fd));
      ps.Set(i, po);
    }
    r.Set("paths", ps);
    Napi::Array fs = Napi::Array::New(env, d->nfds);
    for (uint32_t i = 0; i < d->nfds; i++) fs.Set(i, n(d->fds[i]));
    r.Set("fds", fs);
    table.Set(k++, r);
  }
  o.Set("syscalls", table);
  return o;
}

// readMemory(tid, addr, len) -> Buffer | -errno
Napi::Value ReadMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid = info[0].As<Napi::Number>().Int32Value();
  uint64_t addr = ToU64(info[1]);
  size_t len = info[2].As<Napi::Number>().Uint32Value();
  Napi::Buffer<char> buf = Napi::Buffer<char>::New(env, len);
  int r = vview::read_mem(tid, addr, buf.Data(), len);
  if (r) return Napi::Number::New(env, r);
  return buf;
}

Napi::Value WriteMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid = info[0].As<Napi::Number>().Int32Value();
  uint64_t addr = ToU64(info[1]);
  Napi::Buffer<char> buf = info[2].As<Napi::Buffer<char>>();
  return Napi::Number::New(env, vview::write_mem(tid, addr, buf.Data(), buf.Length()));
}

Napi::Value ReadString(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid = info[0].As<Napi::Number>().Int32Value();
  uint64_t addr = ToU64(info[1]);
  size_t max = info[2].As<Napi::Number>().Uint32Value();
  std::string s;
  int r = vview::read_str(tid, addr, max, s);
  if (r) return Napi::Number::New(env, r);
  return Napi::Buffer<char>::Copy(env, s.data(), s.size());
}

Napi::Value Scratch(const Napi::CallbackInfo& info) {
  pid_t tid = info[0].As<Napi::Number>().Int32Value();
  size_t len = info[1].As<Napi::Number>().Uint32Value();
  return Napi::Number::New(info.Env(), (double)T().scratch(tid, len));
}

Napi::Value SetPeek(const Napi::CallbackInfo& info) {
  T().set_peek(info[0].ToBoolean());
  return info.Env().Undefined();
}

// rootStatus() -> the command's wait status, or -1 when its exit was never seen.
Napi::Value RootStatus(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), T().root_exited() ? T().root_status() : -1);
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("stops", Napi::Number::New(env, (double)T().stops));
  o.Set("fastResumes", Napi::Number::New(env, (double)T().fast_resumes));
  o.Set("jsEvents", Napi::Number::New(env, (double)T().js_events));
  o.Set("lookups", Napi::Number::New(env, (double)T().resolver.lookups));
  o.Set("cacheHits", Napi::Number::New(env, (double)T().resolver.cache_hits));
  o.Set("statsEmulated", Napi::Number::New(env, (double)T().stats_emulated));
  o.Set("statsPatched", Napi::Number::New(env, (double)T().stats_patched));
  o.Set("nativeRewrites", Napi::Number::New(env, (double)T().native_rewrites));
  o.Set("emuStops", Napi::Number::New(env, (double)T().emu.stops));
  o.Set("emuRequests", Napi::Number::New(env, (double)T().emu.requests));
  o.Set("emuWaits", Napi::Number::New(env, (double)T().emu.waits));
  o.Set("emuWakes", Napi::Number::New(env, (double)T().emu.wakes));
  Napi::Object by = Napi::Object::New(env);
  const auto& ss = T().seccomp_stops;
  for (size_t i = 0; i < ss.size(); i++)
    if (ss[i]) by.Set(Napi::Number::New(env, (double)i), Napi::Number::New(env, (double)ss[i]));
  o.Set("seccompStops", by);
  return o;
}

// ---- signal forwarding -------------------------------------------------------
// SIGINT/SIGTERM/... sent to vview by a process (kill, a supervisor) go to the
// command. The same signal generated by the terminal (si_code SI_KERNEL) is not
// relayed: the command, in the same foreground process group, gets it directly.
std::atomic<pid_t> g_forward_to{0};
// INT, TERM and HUP sent with kill() so far. The second one ends the view
// (SIGKILL to every process of it): a command that ignores the first, or
// one parked in a stop whose module handler never answers, cannot keep
// vview from ending. The modules still close (the vfs saves) after it.
std::atomic<int> g_end_requests{0};

void OnSignal(int sig, siginfo_t* si, void*) {
  pid_t to = g_forward_to.load();
  if (to <= 0) return;
  if (si && si->si_code > 0) return;  // from the kernel (tty, ...), not from kill()
  if (si && si->si_pid == to) return;
  int saved = errno;
  if ((sig == SIGINT || sig == SIGTERM || sig == SIGHUP) && g_end_requests.fetch_add(1) >= 1) {
    static const char msg[] = "vview: a second INT/TERM/HUP: ending the view (every process of it is killed)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    vview::live_kill(SIGKILL);
    errno = saved;
    return;
  }
  // Once the command has exited, what is left of the view (background
  // processes) gets it instead: vview must not outlive a SIGTERM.
  if (vview::g_root_exited) vview::live_kill(sig);
  else kill(to, sig);
  errno = saved;
}

Napi::Value ForwardSignals(const Napi::CallbackInfo& info) {
  g_forward_to = info[0].As<Napi::Number>().Int32Value();
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
  for (int s : sigs) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnSignal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(s, &sa, nullptr);
  }
  return info.Env().Undefined();
}

// ---- waker ---------------------------------------------------------------------
struct Waker {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  bool armed = false, quit = false;
  Napi::ThreadSafeFunction tsfn;
};
Waker* g_waker = nullptr;

void WakerLoop(Waker* w) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(w->mu);
      w->cv.wait(lk, [w] { return w->armed || w->quit; });
      if (w->quit) return;
      w->armed = false;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    // Sees the tracees of the main thread (same thread group); WNOWAIT leaves
    // the event for the main thread's waitpid.
    waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOWAIT | __WALL);
    std::lock_guard<std::mutex> lk(w->mu);
    if (w->quit) return;  // stopped meanwhile: the callback is released
    w->tsfn.NonBlockingCall();
  }
}

// startWaker(callback): the callback runs on the main thread after arm() once a
// tracee has an event pending.
Napi::Value StartWaker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_waker) return env.Undefined();
  g_waker = new Waker();
  g_waker->tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "vview-waker", 0, 1);
  g_waker->thread = std::thread(WakerLoop, g_waker);
  return env.Undefined();
}

Napi::Value ArmWaker(const Napi::CallbackInfo& info) {
  if (g_waker) {
    std::lock_guard<std::mutex> lk(g_waker->mu);
    g_waker->armed = true;
    g_waker->cv.notify_one();
  }
  return info.Env().Undefined();
}

Napi::Value StopWaker(const Napi::CallbackInfo& info) {
  if (g_waker) {
    {
      std::lock_guard<std::mutex> lk(g_waker->mu);
      g_waker->quit = true;
      g_waker->cv.notify_one();
    }
    // The thread may be inside waitid, which blocks as long as Node has a
    // child of its own (tsx's esbuild service for a module in TypeScript):
    // it is not waited for. When its waitid returns it sees quit and ends
    // without touching the callback; the Waker is left to it.
    g_waker->thread.detach();
    g_waker->tsfn.Release();
    g_waker = nullptr;
  }
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("configure", Napi::Function::New(env, Configure));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("utimens", Napi::Function::New(env, Utimens));
  exports.Set("claimInode", Napi::Function::New(env, ClaimInode));
  exports.Set("statView", Napi::Function::New(env, StatViewConfigure));
  exports.Set("statOwner", Napi::Function::New(env, StatOwner));
  exports.Set("statShow", Napi::Function::New(env, StatShow));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("join", Napi::Function::New(env, Join));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("layerSize", Napi::Function::New(env, LayerSize));
  exports.Set("next", Napi::Function::New(env, Next));
  exports.Set("resume", Napi::Function::New(env, Resume));
  exports.Set("readMemory", Napi::Function::New(env, ReadMemory));
  exports.Set("writeMemory", Napi::Function::New(env, WriteMemory));
  exports.Set("readString", Napi::Function::New(env, ReadString));
  exports.Set("scratch", Napi::Function::New(env, Scratch));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("rootStatus", Napi::Function::New(env, RootStatus));
  exports.Set("setPeek", Napi::Function::New(env, SetPeek));
  exports.Set("forwardSignals", Napi::Function::New(env, ForwardSignals));
  exports.Set("startWaker", Napi::Function::New(env, StartWaker));
  exports.Set("armWaker", Napi::Function::New(env, ArmWaker));
  exports.Set("stopWaker", Napi::Function::New(env, StopWaker));
  exports.Set("abi", Napi::Function::New(env, Abi));
  exports.Set("viewPath", Napi::Function::New(env, ViewPath));
  exports.Set("flock", Napi::Function::New(env, vview::FileLock));
  exports.Set("copySparse", Napi::Function::New(env, vview::CopySparse));
  return exports;
}

}  // namespace

NODE_API_MODULE(vview_native, Init)
