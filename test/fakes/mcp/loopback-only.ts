// Preloaded (`node --import`) into a third-party server a test runs, such as server-everything's
// streamable HTTP transport, which listens on every interface: its listen() is kept to 127.0.0.1,
// as every server of the test suite is.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    const [port, ...rest] = args;
    const host = typeof rest[0] === 'string' ? rest.shift() : undefined;
    if (host === undefined || host === '0.0.0.0' || host === '::') return listen.apply(this, [Number(port), '127.0.0.1', ...rest] as never);
  }
  return listen.apply(this, args as never);
};
