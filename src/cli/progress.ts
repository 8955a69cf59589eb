// A progress indicator for work that may take more than a second (replays, waiting for texts):
// nothing for quick work; after a second, a spinner with the elapsed time on a terminal, or one
// line elsewhere so a log of the run still shows what it waited for. It writes to stderr, so
// the command's output on stdout stays clean for pipes.

const SHOW_AFTER_MS = 1_000;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** `label` may be a function, read at each frame, for work that reports how far it got. */
export async function withProgress<T>(label: string | (() => string), work: Promise<T>): Promise<T> {
  const text = typeof label === 'function' ? label : () => label;
  const started = Date.now();
  const terminal = process.stderr.isTTY === true;
  let frame = 0;
  let shown = false;
  let ticker: NodeJS.Timeout | undefined;
  const draw = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text()} ${seconds}s`);
  };
  const delay = setTimeout(() => {
    shown = true;
    if (!terminal) {
      process.stderr.write(`${text()}…\n`);
      return;
    }
    draw();
    ticker = setInterval(draw, 100);
  }, SHOW_AFTER_MS);
  try {
    return await work;
  } finally {
    clearTimeout(delay);
    clearInterval(ticker);
    if (shown && terminal) process.stderr.write('\r\x1b[2K');
  }
}
