import { SMTPServer } from 'smtp-server';

// A bare SMTP server in its own process, so the benchmark measures the sender's work, not the
// receiver's. It accepts everything, counts messages, and reports its port and counts over IPC.
// `--answer-delay-ms=N` answers each message's end after N ms, as a real relay (tens of
// milliseconds) does; the loopback default answers at once. It also keeps each message's arrival
// time, for the busiest one-second window a relay's rate limit is about.

const delayArgument = process.argv.find((argument) => argument.startsWith('--answer-delay-ms='));
const answerDelayMs = delayArgument ? Number(delayArgument.split('=')[1]) : 0;

let received = 0;
let arrivals: number[] = [];
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  size: 10 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      const answer = () => {
        received += 1;
        arrivals.push(performance.now());
        callback();
      };
      if (answerDelayMs > 0) setTimeout(answer, answerDelayMs);
      else answer();
    });
  },
});

/** The most messages answered within any one second (a window sliding from arrival to arrival). */
function busiestSecond(times: number[]): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last += 1) {
    while (times[last]! - times[first]! >= 1000) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  process.send!({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (message: { type: string }) => {
  if (message.type === 'count') process.send!({ type: 'count', received });
  if (message.type === 'busiest-second') process.send!({ type: 'busiest-second', most: busiestSecond(arrivals) });
  if (message.type === 'reset') {
    received = 0;
    arrivals = [];
  }
  if (message.type === 'stop') server.close(() => process.exit(0));
});
