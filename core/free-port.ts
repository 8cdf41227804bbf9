/** A free loopback TCP port, for a server started as another process (Redis, a test's own rhodops serve). */
import { createServer, type AddressInfo } from 'node:net';

/** Free when asked: whoever binds it next gets it. */
export async function freeLoopbackPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
