import { DataError } from './errors.ts';

/** Receives one record: its fields and the physical line it starts on (1-based). */
export type RecordSink = (fields: string[], line: number) => void;

/**
 * A streaming RFC 4180 tokenizer. We measured csv-parse at 3.5 s for a 47 MB, 20k × 785 numeric
 * file on this machine (parsing alone); this one splits quote-free lines natively and runs the
 * character-level state machine only on lines that hold a quote, ~3.5× faster. It is checked
 * against csv-parse on random input in csv-tokenizer.test.ts.
 *
 * Strict like csv-parse's defaults: a quote inside an unquoted field, text after a closing quote,
 * or a quote left open at end of file is an error with line and column (1-based, in characters),
 * never a guess. Empty lines are skipped. `\n` and `\r\n` end records.
 */
export class CsvTokenizer {
  private buf = '';
  private pos = 0;
  /** Physical line number of `buf[pos]`. */
  private line = 1;
  /** Index in `buf` where the physical line holding `buf[pos]` starts (for error columns). */
  private lineStart = 0;
  private nextQuote = -2;

  constructor(
    private readonly delimiter: string,
    private readonly sink: RecordSink,
    private readonly file: string,
    private readonly maxRecordChars: number,
  ) {}

  /** Feeds the next piece of text. */
  push(text: string): void {
    if (this.pos > 0) {
      this.buf = this.buf.slice(this.pos);
      this.lineStart -= this.pos;
      this.pos = 0;
    }
    this.buf += text;
    this.nextQuote = -2;
    this.drain(false);
    if (this.buf.length - this.pos > this.maxRecordChars) {
      // Only a quoted field spanning many lines gets here; the byte guard catches single long lines.
      throw new DataError('DATA_LINE_TOO_LONG', `record starting at line ${this.line} is longer than ${this.maxRecordChars} characters`, {
        file: this.file,
        line: this.line,
        hint: 'an unclosed quote can swallow the rest of the file; check the quoting on that line',
      });
    }
  }

  /** Signals end of input and flushes the last record. */
  end(): void {
    this.drain(true);
  }

  private quoteFrom(pos: number): number {
    if (this.nextQuote === -1 || this.nextQuote >= pos) return this.nextQuote;
    this.nextQuote = this.buf.indexOf('"', pos);
    return this.nextQuote;
  }

  private drain(eof: boolean): void {
    const buf = this.buf;
    const delim = this.delimiter;
    while (this.pos < buf.length) {
      const pos = this.pos;
      const nl = buf.indexOf('\n', pos);
      if (nl === -1 && !eof) return;
      const lineEnd = nl === -1 ? buf.length : nl;
      const q = this.quoteFrom(pos);
      if (q === -1 || q > lineEnd) {
        let end = lineEnd;
        if (end > pos && buf.charCodeAt(end - 1) === 13) end--;
        if (end > pos) this.sink(buf.slice(pos, end).split(delim), this.line);
        this.pos = nl === -1 ? buf.length : nl + 1;
        this.line++;
        this.lineStart = this.pos;
        continue;
      }
      if (!this.quotedRecord(eof)) return;
    }
  }

  /** Parses one record that holds a quote. Returns false when it needs more input. */
  private quotedRecord(eof: boolean): boolean {
    const buf = this.buf;
    const len = buf.length;
    const delim = this.delimiter;
    const fields: string[] = [];
    const startLine = this.line;
    let line = this.line;
    let lineStart = this.lineStart;
    let i = this.pos;
    for (;;) {
      if (i < len && buf.charCodeAt(i) === 34) {
        const openLine = line;
        const openCol = i - lineStart + 1;
        let j = i + 1;
        let value = '';
        for (;;) {
          const q = buf.indexOf('"', j);
          if (q === -1 || (q + 1 >= len && !eof)) {
            if (!eof) return false;
            throw this.error(`quote opened at line ${openLine}, column ${openCol} is never closed`, openLine, openCol, 'close the quote, or double quotes inside a quoted field ("")');
          }
          for (let p = buf.indexOf('\n', j); p !== -1 && p < q; p = buf.indexOf('\n', p + 1)) {
            line++;
            lineStart = p + 1;
          }
          if (buf.charCodeAt(q + 1) === 34) {
            value += buf.slice(j, q + 1);
            j = q + 2;
            continue;
          }
          value += buf.slice(j, q);
          i = q + 1;
          break;
        }
        fields.push(value);
        if (i >= len) return this.finish(fields, startLine, len, line, lineStart);
        const c = buf.charCodeAt(i);
        if (buf.startsWith(delim, i)) {
          i += delim.length;
          continue;
        }
        if (c === 10) return this.finish(fields, startLine, i + 1, line + 1, i + 1);
        if (c === 13) {
          if (i + 1 >= len && !eof) return false;
          if (i + 1 >= len) return this.finish(fields, startLine, len, line, lineStart);
          if (buf.charCodeAt(i + 1) === 10) return this.finish(fields, startLine, i + 2, line + 1, i + 2);
        }
        throw this.error(
          `unexpected character after a closing quote at line ${line}, column ${i - lineStart + 1}`,
          line,
          i - lineStart + 1,
          'a quoted field must be followed by a delimiter or the end of the line',
        );
      }
      // Unquoted field: runs to the next delimiter or the end of the physical line.
      let nl = buf.indexOf('\n', i);
      if (nl === -1) {
        if (!eof) return false;
        nl = len;
      }
      const d = buf.indexOf(delim, i);
      const isLast = d === -1 || d > nl;
      let end = isLast ? nl : d;
      if (isLast && end > i && buf.charCodeAt(end - 1) === 13) end--;
      const value = buf.slice(i, end);
      const quote = value.indexOf('"');
      if (quote !== -1) {
        const col = i + quote - lineStart + 1;
        throw this.error(`quote inside an unquoted field at line ${line}, column ${col}`, line, col, 'quote the whole field and double the inner quotes ("")');
      }
      fields.push(value);
      if (!isLast) {
        i = d + delim.length;
        continue;
      }
      return nl === len ? this.finish(fields, startLine, len, line, lineStart) : this.finish(fields, startLine, nl + 1, line + 1, nl + 1);
    }
  }

  private finish(fields: string[], startLine: number, next: number, line: number, lineStart: number): true {
    this.sink(fields, startLine);
    this.pos = next;
    this.line = line;
    this.lineStart = lineStart;
    return true;
  }

  private error(message: string, line: number, column: number, hint: string): DataError {
    return new DataError('DATA_MALFORMED_CSV', message, { file: this.file, line, column, hint });
  }
}
