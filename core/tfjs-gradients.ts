/**
 * Registers tfjs's gradient functions. @tensorflow/tfjs-core registers none by itself, and its own
 * `dist/register_all_gradients.js` is ESM in a package without "type": "module", so Node cannot import it.
 * The @tensorflow/tfjs union package's Node bundle registers them all on our (shared) tfjs-core.
 * Only training and differentiating code needs this; the server runs ONNX Runtime and never loads it.
 */
import '@tensorflow/tfjs';
