/**
 * Renders an attempt's transcript (`bearing log`) as lines for a person:
 * the agent's messages as it wrote them, one line per tool call with its
 * main argument, failed calls with the end of what the tool said, and the
 * result with its cost, turns and tokens.
 */
import { thousands, tokensText } from '../core/status-report.js';
import type { TranscriptEntry } from '../core/transcript.js';
import type { Colors } from './output.js';

/** Lines of a failed tool's output shown; its end says most about why it failed. */
const TOOL_ERROR_LINES = 12;

export function renderTranscriptEntry(entry: TranscriptEntry, color: Colors): string[] {
  switch (entry.kind) {
    case 'message':
      return entry.text.split('\n');
    case 'reasoning':
      return entry.text.split('\n').map((l) => color.dim(l));
    case 'tool':
      return [`${color.cyan('→')} ${call(entry.name, entry.target, color)}`];
    case 'tool-error':
      return [
        `${color.red('✗')} ${call(entry.name, entry.target, color)} ${color.red('failed')}`,
        ...lastLines(entry.text, TOOL_ERROR_LINES).map((l) => color.dim(`    ${l}`)),
      ];
    case 'notice':
      return [color.dim(`· ${entry.text}`)];
    case 'result': {
      const facts = [
        entry.status,
        ...(entry.costUsd === undefined ? [] : [`$${entry.costUsd.toFixed(4)}`]),
        ...(entry.turns === undefined
          ? []
          : [`${thousands(entry.turns)} turn${entry.turns === 1 ? '' : 's'}`]),
        ...(entry.usage === undefined ? [] : [`tokens ${tokensText(entry.usage)}`]),
      ].join(' · ');
      const head = entry.ok
        ? `${color.green('✓ result:')} ${facts}`
        : `${color.red('✗ result:')} ${facts}`;
      return entry.ok || !entry.text
        ? [head]
        : [head, ...entry.text.split('\n').map((l) => `    ${l}`)];
    }
    case 'text':
      return [entry.text];
  }
}

function call(name: string, target: string | undefined, color: Colors): string {
  return target === undefined ? color.bold(name) : `${color.bold(name)} ${target}`;
}

function lastLines(text: string, max: number): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  return lines.length <= max ? lines : ['…', ...lines.slice(lines.length - max)];
}
