/**
 * Finds the shell's "command finished" marks (OSC 633;D;<status> BEL, the sequence VS Code's shell
 * integration uses) in terminal output. The lab's bashrc prints one after every command. The
 * marks stay in the stream (terminals ignore unknown OSC sequences); we only observe them.
 */
const PREFIX = "\x1b]633;D;";

export class CommandMarks {
  private tail = "";

  /** Returns the exit statuses of the commands that finished in this chunk. */
  scan(chunk: Buffer): number[] {
    if (!this.tail && !chunk.includes(0x1b)) return []; // the common case: no escape at all
    const text = this.tail + chunk.toString("latin1");
    const found: number[] = [];
    const re = /\x1b\]633;D;(\d{1,3})\x07/g;
    let m: RegExpExecArray | null;
    let last = 0;
    while ((m = re.exec(text))) {
      found.push(Number(m[1]));
      last = re.lastIndex;
    }
    // keep a possible partial mark at the end for the next chunk
    const rest = text.slice(last);
    const start = rest.lastIndexOf("\x1b");
    this.tail = start >= 0 && rest.length - start < PREFIX.length + 5 ? rest.slice(start) : "";
    return found;
  }
}
