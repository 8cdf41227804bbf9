// The entry of a generator's worker thread (see threaded.ts). Plain JavaScript, like bin/rhodops.js,
// so that the thread can load the TypeScript sources through tsx however the parent was started.
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker-main.ts');
