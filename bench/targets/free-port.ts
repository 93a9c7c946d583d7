import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the issuer has to name it before listening). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
