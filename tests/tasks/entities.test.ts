/**
 * The task entities a load checks across every file share one hidden class.
 * V8 (Node 20) gives each object made by spread syntax a class of its own once
 * the spread has run a few times, and the project-wide checks read fields of
 * every entity: at 20,000 tasks that was a tenth of `bearing validate`.
 */
import { describe, expect, it } from 'vitest';
import { withNatives } from '../state/support.js';

describe('task entities', () => {
  it('share one hidden class, in a file of many tasks', async () => {
    // Hidden classes are V8's, seen only with --allow-natives-syntax: in a child process.
    const child = await withNatives(
      {
        yaml: 'src/tasks/yaml-file.ts',
        report: 'src/tasks/report.ts',
        taskFile: 'src/tasks/task-file.ts',
      },
      (modules) => `
const { parseYaml } = await import(${JSON.stringify(modules.yaml)});
const { FileReport } = await import(${JSON.stringify(modules.report)});
const { checkTaskFile } = await import(${JSON.stringify(modules.taskFile)});
let text = 'tasks:\\n';
for (let i = 0; i < 200; i++) text += '  - id: t' + i + '\\n    prompt: step ' + i + '\\n';
const parsed = parseYaml(text);
const sink = [];
const { tasks } = checkTaskFile(parsed, new FileReport('a.yaml', parsed.locator, sink));
console.log(JSON.stringify({ tasks: tasks.length, problems: sink.length, others: tasks.filter((t) => !sameMap(t, tasks[0])).length }));
`,
    );
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ tasks: 200, problems: 0, others: 0 });
  });
});
