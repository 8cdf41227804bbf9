/**
 * Where errors go that no caller handles: one sink (the toasts, once they exist), so an event handler or a
 * promise that fails shows the VJ a message instead of throwing uncaught into the console.
 */
type Sink = (error: unknown, context?: string) => void;

let sink: Sink = (error, context) => console.warn(`rhodops: ${context ? `${context}: ` : ''}${String(error)}`);

export function setErrorSink(s: Sink): void {
  sink = s;
}

export function report(error: unknown, context?: string): void {
  try {
    sink(error, context);
  } catch {
    // The sink itself failed (its DOM is gone, say): nothing more useful to do than not throw.
  }
}

/** Runs `fn`, sending a throw or a rejected promise to the sink. */
export function guard(fn: () => unknown, context?: string): void {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch((e: unknown) => report(e, context));
  } catch (e) {
    report(e, context);
  }
}
