/**
 * Custom agents from `config.yaml` `agents:`: any CLI, described by a command
 * and an argument template. The template is never split or shell-parsed:
 * each element stays one argv element, so a prompt with spaces, quotes or
 * `$(...)` reaches the agent verbatim.
 */
import type { CustomAgent, Task } from '../core/task.js';
import { SUMMARY_MAX_CHARS } from './bounded.js';
import { ClaudeStreamParser } from './claude.js';
import { CodexJsonParser } from './codex.js';
import { TextTailParser } from './text-output.js';
import type {
  AgentAdapter,
  AgentInvocation,
  InvocationInput,
  OutputParser,
  ParserOptions,
} from './types.js';

const PLACEHOLDERS = /\{prompt\}|\{model\}/g;
const HAS_PLACEHOLDER = /\{prompt\}|\{model\}/;

/**
 * Fills the template. `{prompt}` and `{model}` are replaced inside each
 * element in one pass, so a prompt that itself contains `{model}` is left
 * alone. With no model set:
 * - an element that is exactly `{model}` is dropped, and so is the element
 *   before it when that one looks like a flag (starts with `-`) and holds no
 *   placeholder: `['--model', '{model}']` disappears as a pair;
 * - an element that contains `{model}` among other text (`--model={model}`)
 *   is dropped too: a flag with an empty value is never what was meant.
 * Whether a prompt starting with `-` is safe depends on the CLI: put `--`
 * before `{prompt}` in the template when the CLI supports it.
 */
export function expandArgs(template: readonly string[], prompt: string, model?: string): string[] {
  const out: string[] = [];
  let previousPushed: string | undefined;
  for (const element of template) {
    if (model === undefined && element.includes('{model}')) {
      if (
        element === '{model}' &&
        previousPushed !== undefined &&
        previousPushed.startsWith('-') &&
        previousPushed !== '--' &&
        !HAS_PLACEHOLDER.test(previousPushed)
      ) {
        out.pop();
      }
      previousPushed = undefined;
      continue;
    }
    out.push(element.replace(PLACEHOLDERS, (p) => (p === '{prompt}' ? prompt : (model ?? ''))));
    previousPushed = element;
  }
  return out;
}

/** Lines of a text agent's output kept as its summary (the byte bound is what matters). */
const TEXT_TAIL_LINES = 10_000;

/** The adapter for one custom agent; `input.agent` (a fresher copy) wins when given. */
export function customAdapter(agent: CustomAgent): AgentAdapter {
  const parserFor = (a: CustomAgent, options?: ParserOptions): OutputParser => {
    switch (a.output) {
      case 'claude':
        return new ClaudeStreamParser();
      case 'codex':
        return new CodexJsonParser(options);
      default:
        return new TextTailParser({
          maxLines: TEXT_TAIL_LINES,
          maxChars: SUMMARY_MAX_CHARS,
          onExitFailure: (exitCode, tail) => ({
            reason: 'agent-exit',
            exitCode,
            message: lastLine(tail),
          }),
        });
    }
  };
  return {
    name: agent.name,
    output: agent.output,
    installHint: agent.installHint ?? `install \`${agent.command}\` and make sure it is on PATH`,
    resumable: false,
    buildInvocation(input: InvocationInput): AgentInvocation {
      const a = input.agent ?? agent;
      const onStdin = a.promptInput === 'stdin';
      // With stdin, validation has rejected `{prompt}` in the template.
      return {
        file: a.command,
        args: expandArgs(a.args, onStdin ? '' : input.prompt, modelOf(input.task)),
        env: {},
        promptOnStdin: onStdin,
      };
    },
    createParser(options?: ParserOptions): OutputParser {
      return parserFor(agent, options);
    },
  };
}

function modelOf(task: Task): string | undefined {
  return task.model === undefined || task.model === '' ? undefined : task.model;
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.at(-1) ?? '';
}
