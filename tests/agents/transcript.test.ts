/**
 * The transcript readers (`bearing log`) on the real CLIs' captured output:
 * every entry comes from a field the reference shows, and a line read in
 * pieces (a long line, as LineSplitter hands it over) gives the same entries.
 */
import { describe, expect, it } from 'vitest';
import { ClaudeTranscript } from '../../src/agents/claude.js';
import { CodexTranscript } from '../../src/agents/codex.js';
import { transcriptReader } from '../../src/agents/transcript.js';
import type { TranscriptEntry, TranscriptReader } from '../../src/core/transcript.js';
import { chunks, reference } from './support.js';

function read(reader: TranscriptReader, text: string): TranscriptEntry[] {
  return text.split('\n').flatMap((line) => reader.line(line));
}

function readInPieces(reader: TranscriptReader, text: string): TranscriptEntry[] {
  return text.split('\n').flatMap((line, i) => reader.pieces(chunks(line, i + 1, 50)));
}

describe('claude transcript', () => {
  it('shows the messages, the tool calls with their file, and the result of a stream-json run', () => {
    const entries = read(
      new ClaudeTranscript('/home/user/project'),
      reference('claude-success.stream.jsonl'),
    );
    expect(entries).toEqual([
      { kind: 'notice', text: 'claude started (claude-sonnet-5)' },
      { kind: 'message', text: "I'll create hello.txt." },
      { kind: 'tool', name: 'Write', target: 'hello.txt' },
      { kind: 'message', text: 'Done: wrote hello.txt' },
      {
        kind: 'result',
        ok: true,
        status: 'success',
        text: 'Done: wrote hello.txt',
        costUsd: 0.023424,
        turns: 2,
        usage: {
          inputTokens: 240,
          outputTokens: 80,
          cacheReadTokens: 20480,
          cacheWriteTokens: 4096,
        },
      },
    ]);
  });

  it('keeps absolute paths outside where the agent ran', () => {
    const entries = read(
      new ClaudeTranscript('/elsewhere'),
      reference('claude-success.stream.jsonl'),
    );
    expect(entries).toContainEqual({
      kind: 'tool',
      name: 'Write',
      target: '/home/user/project/hello.txt',
    });
  });

  it('reads a line in pieces as it reads it whole', () => {
    const text = reference('claude-success.stream.jsonl');
    expect(readInPieces(new ClaudeTranscript('/home/user/project'), text)).toEqual(
      read(new ClaudeTranscript('/home/user/project'), text),
    );
  });

  it('shows a failed tool call (tool_result with is_error) under the call it answers', () => {
    const [, , use, result] = reference('claude-success.stream.jsonl').split('\n');
    const call = JSON.parse(use!);
    call.message.content[0] = {
      ...call.message.content[0],
      name: 'Bash',
      input: { command: 'npm test\n  --watch=false', description: 'Run the tests' },
    };
    const answer = JSON.parse(result!);
    answer.message.content[0].is_error = true;
    answer.message.content[0].content = [{ type: 'text', text: 'Exit code 1\n2 tests failed' }];
    const reader = new ClaudeTranscript();
    expect(reader.line(JSON.stringify(call))).toEqual([
      { kind: 'tool', name: 'Bash', target: 'npm test …' },
    ]);
    expect(reader.line(JSON.stringify(answer))).toEqual([
      {
        kind: 'tool-error',
        name: 'Bash',
        target: 'npm test …',
        text: 'Exit code 1\n2 tests failed',
      },
    ]);
  });

  it('shows a successful tool_result as nothing more than its call', () => {
    const [, , , result] = reference('claude-success.stream.jsonl').split('\n');
    expect(new ClaudeTranscript().line(result!)).toEqual([]);
  });

  it('shows retries, the fallback and a failed result with its text', () => {
    const entries = read(new ClaudeTranscript(), reference('claude-fallback.stream.jsonl'));
    expect(
      entries.filter((e) => e.kind === 'notice').map((e) => (e as { text: string }).text),
    ).toEqual([
      expect.stringMatching(/^claude started/),
      expect.stringMatching(/^API request retried \(529/),
      expect.stringMatching(/^API request retried \(529/),
      expect.stringMatching(/^model fell back from .+ to .+/),
    ]);
    const maxTurns = read(new ClaudeTranscript(), reference('claude-max-turns.json'));
    expect(maxTurns).toEqual([
      expect.objectContaining({ kind: 'result', ok: false, status: 'error_max_turns', turns: 4 }),
    ]);
    const api = read(new ClaudeTranscript(), reference('claude-529-default-retries.json'));
    expect(api).toEqual([
      expect.objectContaining({ kind: 'result', ok: false, text: expect.stringContaining('529') }),
    ]);
  });

  it('says which tool calls were denied', () => {
    const entries = read(new ClaudeTranscript(), reference('claude-permission-denied.json'));
    expect(entries[0]).toEqual({ kind: 'notice', text: '1 tool call(s) denied: Write' });
  });

  it('shows a line that is not an event as it is', () => {
    expect(new ClaudeTranscript().line('Error: something broke')).toEqual([
      { kind: 'text', text: 'Error: something broke' },
    ]);
    expect(new ClaudeTranscript().line('   ')).toEqual([]);
  });
});

describe('codex transcript', () => {
  it('shows each completed item once: the command, the message, then the turn with its usage', () => {
    const entries = read(new CodexTranscript(), reference('codex-success.stdout'));
    expect(entries).toEqual([
      {
        kind: 'tool',
        name: 'command',
        target: `/bin/bash -lc "printf 'Hello from the mock model"'!'"\\\\n' > hello.txt"`,
      },
      { kind: 'message', text: 'Done: wrote hello.txt' },
      {
        kind: 'result',
        ok: true,
        status: 'turn.completed',
        turns: 1,
        usage: { inputTokens: 3000, outputTokens: 84, cacheReadTokens: 2048, cacheWriteTokens: 0 },
      },
    ]);
  });

  it('shows a patch as one call per file, relative to where codex ran', () => {
    const entries = read(
      new CodexTranscript('/home/user/cproj-3nXn'),
      reference('codex-patch.stdout'),
    );
    expect(entries[0]).toEqual({ kind: 'tool', name: 'Add', target: 'hello.txt' });
  });

  it('shows a command that failed with its exit code and output', () => {
    const completed = JSON.parse(reference('codex-success.stdout').split('\n')[3]!);
    completed.item = {
      ...completed.item,
      command: 'npm test',
      exit_code: 1,
      status: 'failed',
      aggregated_output: '2 failed\n',
    };
    expect(new CodexTranscript().line(JSON.stringify(completed))).toEqual([
      { kind: 'tool-error', name: 'command', target: 'npm test', text: 'exit 1\n2 failed' },
    ]);
  });

  it('shows the command without its shell wrapper when the quoting is plain', () => {
    const completed = JSON.parse(reference('codex-success.stdout').split('\n')[3]!);
    const target = (command: string) => {
      const event = { ...completed, item: { ...completed.item, command } };
      return (new CodexTranscript().line(JSON.stringify(event))[0] as { target: string }).target;
    };
    expect(target('/bin/bash -lc "npm test"')).toBe('npm test');
    expect(target("/bin/zsh -lc 'ls -la src'")).toBe('ls -la src');
    // Anything the shell would expand or unescape stays as codex printed it.
    expect(target('/bin/bash -lc "echo $HOME"')).toBe('/bin/bash -lc "echo $HOME"');
    expect(target('/bin/bash -lc "a \\"b\\""')).toBe('/bin/bash -lc "a \\"b\\""');
  });

  it('shows reconnect notices and a failed turn with its message', () => {
    const entries = read(new CodexTranscript(), reference('codex-http429.stdout'));
    expect(entries.at(-1)).toEqual(
      expect.objectContaining({ kind: 'result', ok: false, status: 'turn.failed' }),
    );
    expect(entries.some((e) => e.kind === 'notice')).toBe(true);
    const warning = read(new CodexTranscript(), reference('codex-unreachable.partial.stdout'));
    expect(warning[0]).toEqual({
      kind: 'notice',
      text: expect.stringMatching(/^Model metadata for `gpt-5` not found/),
    });
  });

  it('reads a line in pieces as it reads it whole', () => {
    const text = reference('codex-http500.stdout');
    expect(readInPieces(new CodexTranscript(), text)).toEqual(read(new CodexTranscript(), text));
  });
});

describe('transcriptReader', () => {
  it('has a reader for each JSON format and none for text', () => {
    expect(transcriptReader('claude')).toBeInstanceOf(ClaudeTranscript);
    expect(transcriptReader('codex')).toBeInstanceOf(CodexTranscript);
    expect(transcriptReader('text')).toBeUndefined();
  });
});
