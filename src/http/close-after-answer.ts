import type { Request, Response } from 'express';

/** How long a refused client may keep sending after the answer before its connection is dropped. */
const LINGER_MS = 2000;

/**
 * A refusal is answered before the body ended: the connection is not kept for another request (a client
 * trickling its body must not hold the socket), so the answer says `Connection: close`. Closing the socket
 * at once would make the kernel reset the connection (unread data), and the reset can reach the client
 * before it has read the answer. So the answer is followed by a FIN, whatever still arrives is discarded
 * unread, and the socket goes when the client closes its side or after LINGER_MS.
 */
export function closeAfterAnswer(req: Request, res: Response): void {
  if (res.locals.closeAfterAnswer) return;
  res.locals.closeAfterAnswer = true;
  const socket = req.socket;
  if (!res.headersSent) res.set('Connection', 'close');
  // With Connection: close, Node destroys the socket as soon as the answer is flushed (destroySoon), which
  // resets a client still sending: this socket half-closes instead and lingers as below.
  socket.destroySoon = () => socket.end();
  res.once('finish', () => {
    req.resume();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
