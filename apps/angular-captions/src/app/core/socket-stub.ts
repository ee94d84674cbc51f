import type { SocketLike } from './caption-socket';

/** A stand-in Socket.IO client for component tests: the test plays the server by calling `handlers`. */
export interface SocketStub {
  readonly handlers: Map<string, (...args: any[]) => void>;
  /** What the page sent: `[event, ...args]` each. */
  readonly emitted: unknown[][];
  connected: boolean;
  readonly socket: SocketLike;
}

export function socketStub(): SocketStub {
  const stub: SocketStub = {
    handlers: new Map(),
    emitted: [],
    connected: true,
    socket: {
      get connected() {
        return stub.connected;
      },
      io: { on: () => undefined },
      on: (event: string, listener: (...args: any[]) => void) => stub.handlers.set(event, listener),
      emit: (...args: unknown[]) => stub.emitted.push(args),
      connect: () => undefined,
      disconnect: () => undefined,
    },
  };
  return stub;
}
