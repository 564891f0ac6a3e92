/**
 * The two questions `bearing start` asks when `--cli` or `--model` is not
 * given: which CLI, and which model. Answers come from `ask` (a terminal, or
 * lines piped on stdin); an empty answer or the end of input takes the
 * default, so `bearing start < /dev/null` starts Claude Code with opus.
 */
import { PLANNER_CLIS, type PlannerCli } from './planner-prompt.js';
import { checkModelName, DEFAULT_PLANNER_MODEL, PLANNER_CLI_NAMES } from './start.js';

/** Shows `question` and resolves with the answer line, or `undefined` at the end of input. */
export type Ask = (question: string) => Promise<string | undefined>;

/** `claude`/`codex` (any case), their numbers in the question, or empty for the default. */
export function parseCliAnswer(answer: string): PlannerCli | 'default' | undefined {
  const a = answer.trim().toLowerCase();
  if (a === '') return 'default';
  const byNumber = /^\d+$/.test(a) ? PLANNER_CLIS[Number(a) - 1] : undefined;
  if (byNumber !== undefined) return byNumber;
  return (PLANNER_CLIS as readonly string[]).includes(a) ? (a as PlannerCli) : undefined;
}

export const CLI_QUESTION = `Planner CLI: 1) claude (${PLANNER_CLI_NAMES.claude})  2) codex (${PLANNER_CLI_NAMES.codex}) [claude]: `;

export function modelQuestion(cli: PlannerCli): string {
  return cli === 'claude'
    ? 'Model (opus, sonnet, fable, or any name claude --model takes) [opus]: '
    : "Model (any name codex -m takes; `codex debug models` lists them) [codex's default]: ";
}

/** Asks which CLI until the answer is valid; the end of input takes claude. */
export async function chooseCli(ask: Ask, say: (line: string) => void): Promise<PlannerCli> {
  for (;;) {
    const answer = await ask(CLI_QUESTION);
    if (answer === undefined) return 'claude';
    const parsed = parseCliAnswer(answer);
    if (parsed === 'default') return 'claude';
    if (parsed !== undefined) return parsed;
    say(`Expected claude or codex (or 1 or 2), got "${answer.trim()}".`);
  }
}

/**
 * Asks which model until the answer is a valid name; an empty answer or the
 * end of input takes the default (`undefined` for codex: no -m flag).
 */
export async function chooseModel(
  cli: PlannerCli,
  ask: Ask,
  say: (line: string) => void,
): Promise<string | undefined> {
  for (;;) {
    const answer = (await ask(modelQuestion(cli)))?.trim();
    if (answer === undefined || answer === '') return DEFAULT_PLANNER_MODEL[cli];
    const problem = checkModelName(answer);
    if (problem === undefined) return answer;
    say(`${problem[0]?.toUpperCase()}${problem.slice(1)}.`);
  }
}
