// Reading from stdin: whole streams for `-` data, and one hidden line for unseal keys.

/** Data arguments of `-` and `k=-` are all of stdin, as in Vault. */
export async function readAllStdin(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The first line of a non-interactive stdin (`echo KEY | leasehold operator unseal`), without its newline. */
export async function readFirstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const newline = text.indexOf('\n');
    // Leaving the loop early ends the stream: nothing past the first line is read.
    if (newline >= 0) return text.slice(0, newline).replace(/\r$/, '');
  }
  return text.replace(/\r$/, '');
}

/** Typing interrupted with Ctrl-C or Ctrl-D at an empty prompt. */
export class PromptAbortedError extends Error {
  constructor() {
    super('input aborted');
    this.name = 'PromptAbortedError';
  }
}

/**
 * Asks for a secret without echoing it: on a TTY the terminal goes to raw mode and nothing typed
 * is written back; otherwise the first line of stdin is the answer and no prompt is shown.
 */
export async function readHiddenLine(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (!input.isTTY) return readFirstLine(input);
  output.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
    };
    const onData = (chunk: string | Buffer): void => {
      for (const character of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (character === '\r' || character === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (character === '\u0003' || (character === '\u0004' && value === '')) {
          finish();
          reject(new PromptAbortedError());
          return;
        }
        if (character === '\u007f' || character === '\b') value = value.slice(0, -1);
        else if (character >= ' ') value += character;
      }
    };
    input.on('data', onData);
  });
}
