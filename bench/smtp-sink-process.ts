import { SMTPServer } from 'smtp-server';

// A bare SMTP server in its own process, so the benchmark measures the sender's work, not the
// receiver's. It accepts everything, counts messages, and reports its port and counts over IPC.

let received = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  size: 10 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      received += 1;
      callback();
    });
  },
});
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  process.send!({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (message: { type: string }) => {
  if (message.type === 'count') process.send!({ type: 'count', received });
  if (message.type === 'reset') received = 0;
  if (message.type === 'stop') server.close(() => process.exit(0));
});
