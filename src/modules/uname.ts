/**
 * uname: the system's name as the view tells it (routed by syscall number).
 *
 *   - uname: { nodename: sandbox, release: 6.0.0-view, version: "#1", machine: x86_64 }
 *
 * Fields not given are the host's. `uname -a`, `hostname` and anything calling
 * uname(2) or gethostname(3) see these values.
 */
import fs from 'node:fs';
import os from 'node:os';
import { defineModule, errno, ret, OptionError } from '../index.js';
import { optString, record } from './options.js';

const FIELD = 65; // __NEW_UTS_LEN + 1
const FIELDS = ['sysname', 'nodename', 'release', 'version', 'machine', 'domainname'] as const;
type Uts = Record<(typeof FIELDS)[number], string>;

function hostUts(): Uts {
  let domainname = '(none)';
  try {
    domainname = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8').trim();
  } catch {
    /* keep the kernel's default */
  }
  return { sysname: os.type(), nodename: os.hostname(), release: os.release(), version: os.version(), machine: os.machine(), domainname };
}

export default defineModule({
  name: 'uname',
  description: 'node name, release, version and machine as configured',
  options(raw): Partial<Uts> {
    const o = record(raw, [...FIELDS]);
    const out: Partial<Uts> = {};
    for (const f of FIELDS) {
      const v = optString(o, f, FIELD - 1);
      if (v !== undefined) out[f] = v;
    }
    if (out.nodename === '') throw new OptionError(['nodename'], 'must not be empty');
    return out;
  },
  setup(options) {
    const uts: Uts = { ...hostUts(), ...options };
    const struct = Buffer.alloc(FIELD * FIELDS.length);
    FIELDS.forEach((f, i) => struct.write(uts[f], i * FIELD, FIELD - 1, 'utf8'));
    return {
      syscalls: {
        uname(call) {
          if (call.ptr(0) === 0) return errno('EFAULT');
          call.mem.write(call.ptr(0), struct);
          return ret(0);
        },
      },
    };
  },
});
