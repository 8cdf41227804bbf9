// The entry of the thread that builds an int8 model (see int8.ts): plain JavaScript so that it can load the
// TypeScript sources through tsx however the parent was started.
import { register } from 'tsx/esm/api';

register();
await import('./int8-worker-main.ts');
