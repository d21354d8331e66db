// A user module: getppid() answers 1 in every process of the view.
import { defineModule, ret } from 'vview';

export default defineModule({
  name: 'ppid1',
  description: 'getppid() answers 1',
  setup() {
    return { syscalls: { getppid: () => ret(1) } };
  },
});
