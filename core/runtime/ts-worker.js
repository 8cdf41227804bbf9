// The entry of every rhodops worker thread (see worker.ts). Plain JavaScript, like bin/rhodops.js, so that the
// thread can load the TypeScript module it was started for through tsx however the parent was started.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
