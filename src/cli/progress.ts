// A progress indicator for work that may take more than a second (replays, waiting for texts):
// nothing for quick work; after a second, a spinner with the elapsed time on a terminal, or one
// line elsewhere so a log of the run still shows what it waited for. It writes to stderr, so
// the command's output on stdout stays clean for pipes.

const SHOW_AFTER_MS = 1_000;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export async function withProgress<T>(label: string, work: Promise<T>): Promise<T> {
  const started = Date.now();
  const terminal = process.stderr.isTTY === true;
  let frame = 0;
  let shown = false;
  let ticker: NodeJS.Timeout | undefined;
  const draw = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${seconds}s`);
  };
  const delay = setTimeout(() => {
    shown = true;
    if (!terminal) {
      process.stderr.write(`${label}…\n`);
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
