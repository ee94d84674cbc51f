import type { SocketLike } from './caption-socket';

/** A stand-in Socket.IO client for component tests: the test plays the server by calling `handlers`. */
export interface SocketStub {
  readonly handlers: Map<string, (...args: any[]) => void>;
  /** What the page sent: `[event, ...args]` each. */
  readonly emitted: unknown[][];
  connected: boolean;
  /** How many times the page asked to connect. */
  connects: number;
  readonly socket: SocketLike;
}

export function socketStub(): SocketStub {
  const stub: SocketStub = {
    handlers: new Map(),
    emitted: [],
    connected: true,
    connects: 0,
    socket: {
      get connected() {
        return stub.connected;
      },
      io: { on: () => undefined },
      on: (event: string, listener: (...args: any[]) => void) => stub.handlers.set(event, listener),
      emit: (...args: unknown[]) => stub.emitted.push(args),
      connect: () => stub.connects++,
      disconnect: () => undefined,
    },
  };
  return stub;
}
