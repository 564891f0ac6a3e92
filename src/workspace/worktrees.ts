/**
 * Worktree mode: every attempt in its own git worktree and branch, its work
 * landed on the target branch as one commit.
 *
 * Landing never touches a work tree until the result is known: the merge is
 * computed in git's object store (`git merge-tree`), so a conflict leaves
 * nothing half-merged, and the target moves in one step, either a
 * fast-forward of the main checkout (which refuses to overwrite local edits)
 * or a compare-and-swap of the branch ref. Before it moves, the commit it
 * will move to is saved on the attempt: after a kill -9 the next run asks git
 * whether that commit is on the target and so knows whether it landed.
 *
 * Checking out a large tree into a new worktree is the slow part (seconds for
 * tens of thousands of files), so a worktree whose attempt is over is kept as
 * a spare and the next attempt takes it: renamed to that attempt's name, its
 * new branch checked out over whatever the last one left, untracked and
 * ignored files removed, it is the same tree a new worktree would be, in a
 * fraction of the time. Renaming keeps one name per attempt, so a record
 * never names a worktree that another attempt is using. Spares go when the
 * run ends, into the trash, so the run need not wait for their files.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { AttemptWorktree } from '../core/state.js';
import { Trash } from '../process/trash.js';
import { type GitRepo, Queue } from './repo.js';
import type { AttemptName, Landing, OpenRequest, Site, Workspace } from './workspace.js';

export interface Target {
  /** The branch work lands on. */
  branch: string;
  /** Whether it is checked out in the main work tree, which then follows each landing. */
  checkedOut: boolean;
}

export interface SpareOptions {
  /** How many spares to keep (default 1): as many as attempts run at once, no more are ever wanted. */
  max?: number;
  /** How long an attempt may wait for a spare; by default as long as the last new checkout took. */
  waitMs?: number;
}

/** The branch of one attempt. Task ids cannot contain '/', so these never collide. */
export function attemptBranch(taskId: string, attempt: number): string {
  return `bearing/${taskId}/${attempt}`;
}

/** Landings made again because someone else committed on the branch meanwhile, before giving up. */
const MAX_LANDING_TRIES = 3;

/** Worktrees kept for reuse are named `.spare-<n>`: never an attempt's name, as no task id starts with a dot. */
const SPARE = '.spare-';

/** Trailers on every commit Bearing lands: which task and attempt it came from. */
export const TASK_TRAILER = 'Bearing-Task';

export class WorktreeWorkspace implements Workspace {
  readonly kind = 'worktree';
  /** Worktrees whose attempts are over, detached and ready to be taken (paths). */
  readonly #spares: string[] = [];
  /** Worktrees being retired now: each may become a spare in a moment. */
  readonly #retiring = new Set<Promise<boolean>>();
  /** Landings under way; each, if it lands, retires its worktree. */
  #landings = 0;
  /** How long the last new worktree took to check out: the most worth waiting for a spare. */
  #checkoutMs = 0;
  /** Attempts waiting for a landing to end (to take its worktree). */
  readonly #landingEnds: (() => void)[] = [];
  /** Worktrees already released: released again (with the task's others), nothing is left to do. */
  readonly #released = new Set<string>();
  readonly #besides = new Set<Promise<void>>();
  #spareNames = 0;
  #trash: Promise<Trash> | undefined;
  /**
   * New checkouts, one at a time: each already uses every core (see
   * #create), and a checkout of a large tree is seconds of CPU, so eight at
   * once would each end when all do and the run's first agents would all
   * start late instead of in turn.
   */
  readonly #checkouts = new Queue();
  /** How many more attempts the run may open (see `expect`), less those opened since; no bound until told. */
  #upcoming = Number.POSITIVE_INFINITY;
  /**
   * Worktrees made ready for the attempts the run opens next (see `expect`),
   * by path: a spare taken beforehand, so the attempt need not wait for it.
   * Undefined when git would not take the spare.
   */
  readonly #prepared = new Map<string, Promise<AttemptWorktree | undefined>>();
  /** Prepared worktrees with a catch-up waiting to start (see #catchUpPrepared), by path. */
  readonly #catchingUp = new Set<string>();
  /** Attempts opening now that have no worktree yet (paths). */
  readonly #opening = new Set<string>();
  /** The attempts the run opens next, as it last said (see `expect`). */
  #next: readonly AttemptName[] = [];
  /**
   * How many of the next attempts get a worktree beforehand: every one the
   * run names (it names a few), as a task that becomes ready takes its place
   * in the plan's order, often ahead of those already waiting, and then
   * opens first. None on a queue's coordinator: its agents run elsewhere.
   */
  protected readonly prepareAhead: number = Number.POSITIVE_INFINITY;

  constructor(
    readonly repo: GitRepo,
    /** Where worktrees are made (absolute). */
    readonly dir: string,
    readonly target: Target,
    readonly spares: SpareOptions = {},
  ) {}

  async open(request: OpenRequest): Promise<Site> {
    const { task, attempt, resumes } = request;
    // One of the attempts the run expected (see `expect`) is here.
    this.#upcoming = Math.max(0, this.#upcoming - 1);
    let wt: AttemptWorktree;
    if (resumes && existsSync(resumes.path)) {
      // The resumed session, and the work it had done, are in that worktree.
      wt = { path: resumes.path, branch: resumes.branch, base: resumes.base };
    } else {
      // Counted until it has its worktree: a spare it may take is not made ready for another.
      const path = this.#attemptPath(task.id, attempt);
      this.#opening.add(path);
      // Made ready for it once and then given back, the name was released: it is this attempt's now.
      this.#released.delete(path);
      try {
        wt = (await this.#takePrepared(path)) ?? (await this.#create(task.id, attempt));
      } finally {
        this.#opening.delete(path);
      }
    }
    const cwd = resolve(wt.path, this.repo.prefix);
    await mkdir(cwd, { recursive: true });
    return {
      cwd,
      worktree: wt,
      keep: async (message) => {
        const commit = await this.#commit(wt, message);
        if (!commit) return { files: [] };
        await this.#holdOnBranch(wt, commit);
        return { files: await this.#changed(wt.base, commit), commit };
      },
      land: async (message, onIntent) => {
        this.#landings++;
        try {
          const landing = await this.#commitAndLand(wt, message, onIntent);
          // Landed work needs its worktree no more: a spare at once, for the
          // attempt that takes this one's place (see #create).
          if (landing.kind === 'landed') {
            this.#beside(this.release([wt]));
            this.#catchUpPrepared();
          }
          return landing;
        } finally {
          this.#landings--;
          for (const wake of this.#landingEnds.splice(0)) wake();
        }
      },
    };
  }

  #landingEnded(): Promise<void> {
    return new Promise((wake) => this.#landingEnds.push(wake));
  }

  /** Work that goes on beside the run (releases after landings); `close` awaits it. */
  #beside(work: Promise<void>): void {
    const settled = work.catch(() => undefined);
    this.#besides.add(settled);
    void settled.then(() => this.#besides.delete(settled));
  }

  /**
   * Land an attempt's commit on the target. Also used for work resolved by
   * hand after a conflict, and for work a killed run committed but did not land.
   */
  land(
    wt: AttemptWorktree,
    message: string,
    onIntent: (w: AttemptWorktree) => void,
  ): Promise<Landing> {
    return this.repo.exclusive('landing', async () => {
      // Only a commit made on the branch by someone else moves it meanwhile;
      // then the landing is made again on what is there now.
      for (let tries = 1; ; tries++) {
        const landing = await this.#landOnce(wt, message, onIntent);
        if (landing !== 'moved') return landing;
        if (tries === MAX_LANDING_TRIES) {
          throw new Error(
            `the branch ${this.target.branch} kept moving while Bearing landed work on it`,
          );
        }
      }
    });
  }

  async #landOnce(
    wt: AttemptWorktree,
    message: string,
    onIntent: (w: AttemptWorktree) => void,
  ): Promise<Landing | 'moved'> {
    const ref = `refs/heads/${this.target.branch}`;
    const tip = await this.#tip();
    if (!wt.commit) return { kind: 'landed', files: [] };
    let landed: string;
    if (tip === wt.base || (await this.repo.isAncestor(tip, wt.commit))) {
      // Nothing landed since it started (or it already holds the tip): a fast-forward.
      landed = wt.commit;
    } else {
      const merged = await this.repo.mergeTrees(tip, wt.commit);
      if (!merged.tree) {
        return {
          kind: 'conflict',
          files: this.#projectFiles(merged.conflicts),
          tasks: await this.#tasksTouching(wt.base, tip, merged.conflicts),
          changed: await this.#changed(wt.base, wt.commit),
          worktree: wt,
        };
      }
      if (merged.tree === (await this.repo.ok(['rev-parse', `${tip}^{tree}`]))) {
        // Its changes were already on the target (another task made the same edit).
        return { kind: 'landed', files: [] };
      }
      landed = await this.repo.ok(
        ['commit-tree', merged.tree, '-p', tip, '-F', '-'],
        undefined,
        message,
      );
    }
    wt.landing = { commit: landed, onto: tip };
    onIntent(wt);
    const moved = await this.#moveTarget(ref, landed, tip);
    if (moved === 'moved') {
      delete wt.landing;
      return 'moved';
    }
    if (moved) return { kind: 'blocked', files: this.#projectFiles(moved), worktree: wt };
    return { kind: 'landed', files: await this.#changed(tip, landed), commit: landed };
  }

  /**
   * Land work kept in an attempt's worktree: resolved there by hand after a
   * conflict, or committed by a run that was stopped before it landed.
   * Whatever is uncommitted there is part of it.
   */
  async landKept(
    wt: AttemptWorktree,
    message: string,
    onIntent: (w: AttemptWorktree) => void,
  ): Promise<Landing> {
    if (existsSync(wt.path)) {
      // A person who resolved a conflict by merging the target in has work
      // that already contains the target's tip: squashed onto that tip, it
      // lands as a fast-forward instead of conflicting all over again.
      const tip = await this.repo.resolve(`refs/heads/${this.target.branch}`);
      await this.repo.ok(['add', '-A'], wt.path);
      const head = await this.repo.ok(['rev-parse', 'HEAD'], wt.path);
      if (tip && tip !== wt.base && (await this.repo.isAncestor(tip, head))) {
        const staged = await this.repo.git(['diff', '--cached', '--quiet'], wt.path);
        if (staged.code !== 0) {
          await this.repo.ok(['commit', '-q', '--no-verify', '-F', '-'], wt.path, message);
        }
        wt.base = tip;
      }
    }
    return this.#commitAndLand(wt, message, onIntent);
  }

  async #commitAndLand(
    wt: AttemptWorktree,
    message: string,
    onIntent: (w: AttemptWorktree) => void,
  ): Promise<Landing> {
    const commit = await this.#commit(wt, message);
    if (commit) wt.commit = commit;
    const landing = await this.land(wt, message, onIntent);
    if (landing.kind !== 'landed' && commit) await this.#holdOnBranch(wt, commit);
    return landing;
  }

  /** Whether a landing saved before a crash happened. */
  async landed(wt: AttemptWorktree): Promise<boolean> {
    if (!wt.landing) return false;
    const tip = await this.repo.resolve(`refs/heads/${this.target.branch}`);
    return tip !== undefined && (await this.repo.isAncestor(wt.landing.commit, tip));
  }

  /** Files a landed commit changed, relative to the project. */
  async landedFiles(wt: AttemptWorktree): Promise<string[]> {
    return wt.landing ? this.#changed(wt.landing.onto, wt.landing.commit) : [];
  }

  /**
   * Worktrees whose attempts are over: each is kept as a spare while fewer
   * than `spares.max` are, else removed; their branches go either way.
   */
  async release(worktrees: readonly { path: string; branch?: string }[]): Promise<void> {
    const seen = new Set<string>();
    for (const wt of worktrees) {
      if (seen.has(wt.path) || this.#released.has(wt.path)) continue;
      seen.add(wt.path);
      this.#released.add(wt.path);
      if (!(await this.#tracked(this.#keepSpare(wt.path)))) await this.remove(wt);
      else if (wt.branch) await this.removeBranch(wt.branch);
    }
  }

  expect(attempts: number, next: readonly AttemptName[] = []): Promise<void> {
    this.#upcoming = attempts;
    this.#next = next;
    const prepared = this.#prepare(next);
    // Spares no attempt will take: removed beside the agents still running.
    // (A retry the run could not foresee then checks out a new worktree.)
    const unwanted = this.#spares.length + this.#prepared.size - attempts;
    const extra = this.#spares.splice(0, Math.max(0, unwanted));
    const removed = Promise.all(extra.map((path) => this.remove({ path }))).then(() => undefined);
    this.#beside(removed);
    // Never rejects: the run does not await it, and like all work beside the
    // run a failure here only leaves a spare (removed when the run closes).
    return Promise.allSettled([removed, prepared]).then(() => undefined);
  }

  /** The run is over: the spares go too (into the trash: nothing waits for their files). */
  async close(): Promise<void> {
    this.#next = [];
    void this.#prepare([]);
    await Promise.all(this.#besides);
    await Promise.all(this.#spares.splice(0).map((path) => this.remove({ path })));
  }

  /**
   * Take an idle spare for the first of these attempts now, while agents
   * run, rather than when an agent's place frees and the attempt waits for
   * it (renaming and checking out a large tree is a good part of a second on
   * a busy machine): `prepareAhead` of them at most. Worktrees made ready for
   * attempts no longer among these go back to the spares (as tasks become
   * ready the order shifts; one still among them keeps its worktree). Never a
   * new checkout: only what would sit idle is used.
   */
  #prepare(next: readonly AttemptName[]): Promise<void> {
    const work: Promise<unknown>[] = [];
    const wanted = new Map(next.map((n) => [this.#attemptPath(n.taskId, n.attempt), n]));
    for (const [path, prepared] of this.#prepared) {
      if (wanted.has(path)) continue;
      this.#prepared.delete(path);
      work.push(prepared.then((wt) => (wt ? this.release([wt]) : undefined)));
    }
    for (const [path, { taskId, attempt }] of wanted) {
      const already = this.#prepared.get(path);
      if (already) {
        work.push(already);
        continue;
      }
      if (this.#prepared.size >= this.prepareAhead) break;
      if (this.#opening.has(path) || existsSync(path)) continue;
      if (this.#spares.length <= this.#opening.size) break;
      const spare = this.#spares.pop()!;
      // Released before (made ready for it once, then not wanted): it is used again.
      this.#released.delete(path);
      const branch = attemptBranch(taskId, attempt);
      // Whatever goes wrong, the attempt checks out a new worktree when it opens (see #create).
      const prepared = this.#takeSpare(spare, path, branch).then(
        (base) => (base ? { path, branch, base } : undefined),
        () => undefined,
      );
      this.#prepared.set(path, prepared);
      work.push(prepared);
    }
    const done = Promise.all(work).then(() => undefined);
    this.#beside(done);
    return done;
  }

  /**
   * The worktree made ready for this attempt, if one was, brought up to
   * what landed since (the files that changed, and its branch).
   */
  async #takePrepared(path: string): Promise<AttemptWorktree | undefined> {
    const prepared = this.#prepared.get(path);
    if (!prepared) return undefined;
    this.#prepared.delete(path);
    const wt = await prepared;
    return wt && this.#catchUp(wt);
  }

  /**
   * After a landing: the worktrees made ready for the next attempts follow
   * the target now, beside the run, so the attempt that takes one finds it
   * current (catching up is most of what taking it would otherwise cost,
   * a read-tree of the whole index). One step waits per worktree: it
   * catches up with every landing made before it starts.
   */
  #catchUpPrepared(): void {
    for (const [path, prepared] of this.#prepared) {
      if (this.#catchingUp.has(path)) continue;
      this.#catchingUp.add(path);
      const caughtUp = prepared.then((wt) => {
        this.#catchingUp.delete(path);
        // A failure here is met again, and said, when the attempt takes it.
        return wt && this.#catchUp(wt).catch(() => wt);
      });
      this.#prepared.set(path, caughtUp);
      this.#beside(caughtUp.then(() => undefined));
    }
  }

  /** A worktree made ready for an attempt, brought up to what landed since (undefined if git would not). */
  async #catchUp(wt: AttemptWorktree): Promise<AttemptWorktree | undefined> {
    const tip = await this.#tip();
    if (tip === wt.base) return wt;
    // Its files are the base's exactly (nothing has run in it): a two-way
    // read-tree touches only the files that changed between the two.
    const caughtUp =
      (await this.repo.git(['read-tree', '-m', '-u', wt.base, tip], wt.path)).code === 0 &&
      (await this.repo.git(['update-ref', `refs/heads/${wt.branch}`, tip, wt.base], wt.path))
        .code === 0;
    if (caughtUp) return { ...wt, base: tip };
    await this.remove(wt);
    return undefined;
  }

  #attemptPath(taskId: string, attempt: number): string {
    return join(this.dir, `${taskId}-${attempt}`);
  }

  /**
   * Keep a worktree as a spare if one more is wanted and git can rename and
   * detach it (it cannot with submodules, a lock, or a half-done merge).
   * Whether it was kept.
   */
  async #keepSpare(path: string): Promise<boolean> {
    // Counted with the others being retired now, which may become spares before this one.
    const max = Math.min(this.spares.max ?? 1, this.#upcoming);
    if (this.#spares.length + this.#retiring.size >= max || !existsSync(path)) {
      return false;
    }
    const spare = basename(path).startsWith(SPARE) ? path : this.#spareName();
    if (
      spare !== path &&
      !(await this.repo.exclusive('worktrees', () => this.#move(path, spare)))
    ) {
      return false;
    }
    // Detached, it no longer holds the attempt's branch, which git would keep.
    // (HEAD alone: `checkout --detach` would read every file's state, for nothing.)
    const head = await this.repo.git(['rev-parse', '-q', '--verify', 'HEAD'], spare);
    const id = head.stdout.toString('utf8').trim();
    const detached =
      head.code === 0 &&
      (await this.repo.git(['update-ref', '--no-deref', 'HEAD', id], spare)).code === 0;
    // Nothing untracked or ignored is left, now, beside the run, rather than
    // when an attempt is waiting to take it. Nothing writes to a spare after.
    const cleaned = detached && (await this.repo.git(['clean', '-q', '-ffdx'], spare)).code === 0;
    if (!cleaned) {
      await this.remove({ path: spare });
      return false;
    }
    this.#spares.push(spare);
    // A spare now: ready for one of the attempts the run opens next (beside the run, see #prepare).
    void this.#prepare(this.#next);
    return true;
  }

  /** A retirement under way, which an attempt about to start may wait for. */
  async #tracked(retiring: Promise<boolean>): Promise<boolean> {
    const settled = retiring.catch(() => false);
    this.#retiring.add(settled);
    try {
      return await retiring;
    } finally {
      this.#retiring.delete(settled);
    }
  }

  /**
   * A worktree whose work is landing, or being retired, is usually a spare
   * in a moment, sooner and for far less work than a new one is checked out
   * (seconds of CPU for a large tree): the attempt that starts as another
   * ends waits for it, but never longer than the last new checkout took, so
   * a slow landing (a long queue, a hook) costs it nothing.
   */
  async #awaitSpare(): Promise<void> {
    const until = performance.now() + (this.spares.waitMs ?? this.#checkoutMs);
    const pending = () => this.#retiring.size > 0 || this.#landings > 0;
    while (this.#spares.length === 0 && pending()) {
      const left = until - performance.now();
      if (left <= 0) return;
      const timer = delay(left, undefined, { ref: false });
      await Promise.race([...this.#retiring, this.#landingEnded(), timer]);
    }
  }

  /** Rename a worktree; false when git refuses. Call it in the worktrees queue. */
  async #move(from: string, to: string): Promise<boolean> {
    return (await this.repo.git(['worktree', 'move', from, to])).code === 0;
  }

  #spareName(): string {
    let path: string;
    do path = join(this.dir, `${SPARE}${++this.#spareNames}`);
    while (existsSync(path));
    return path;
  }

  /** Remove one attempt's worktree and branch (its work landed, or was given up). */
  async remove(wt: { path: string; branch?: string }): Promise<void> {
    // Its files are deleted beside the run, by a process that outlives it
    // (see Trash): the run's end then waits for no deletion. git forgets the
    // worktree once its folder is gone.
    if (await this.#throwAway(wt.path)) {
      await this.repo.exclusive('worktrees', () => this.repo.git(['worktree', 'prune']));
    } else {
      // Another file system than the repository's (or no folder at all):
      // git deletes the files and its admin folder, outside the queues.
      const removed = await this.repo.git(['worktree', 'remove', '--force', '--force', wt.path]);
      if (removed.code !== 0) {
        // Not a worktree git knows (a folder a killed run left), or one it cannot remove.
        await rm(wt.path, { recursive: true, force: true });
        await this.repo.exclusive('worktrees', () => this.repo.git(['worktree', 'prune']));
      }
    }
    if (wt.branch) await this.removeBranch(wt.branch);
  }

  /** Move a worktree into the repository's trash: in its git folder, so always on its file system and never in a work tree. */
  async #throwAway(path: string): Promise<boolean> {
    if (!existsSync(path)) return false;
    this.#trash ??= this.repo
      .ok(['rev-parse', '--git-common-dir'])
      .then((common) => new Trash(resolve(this.repo.top, common.trim(), 'bearing-trash')));
    return (await this.#trash).throwAway(path);
  }

  /** Delete an attempt's branch (never the target). */
  async removeBranch(branch: string): Promise<void> {
    if (branch === this.target.branch) return;
    await this.repo.exclusive('landing', () => this.repo.git(['branch', '-q', '-D', branch]));
  }

  /**
   * After a crash in the middle of a landing that did not happen: git may
   * have updated some of the checkout's files before it was stopped. Files
   * holding exactly the landing's content go back to the checkout's commit;
   * anything else in them is someone's edit and is left alone.
   */
  async restoreCheckout(wt: AttemptWorktree): Promise<void> {
    if (!this.target.checkedOut || !wt.landing) return;
    const { commit, onto } = wt.landing;
    await this.repo.exclusive('landing', async () => {
      for (const path of await this.repo.filesBetween(onto, commit)) {
        const landedBlob = await this.repo.resolveBlob(`${commit}:${path}`);
        const headBlob = await this.repo.resolveBlob(`HEAD:${path}`);
        const current = await this.repo.hashFile(path);
        if (current === headBlob || current !== landedBlob) continue;
        if (headBlob) await this.repo.ok(['checkout', 'HEAD', '--', path]);
        else {
          await this.repo.git(['rm', '-q', '--cached', '--ignore-unmatch', '--', path]);
          await rm(join(this.repo.top, path), { force: true });
        }
      }
    });
  }

  /** Bearing's worktrees git knows of: path and branch. */
  async list(): Promise<{ path: string; branch?: string }[]> {
    const out = await this.repo.ok(['worktree', 'list', '--porcelain', '-z']);
    const found: { path: string; branch?: string }[] = [];
    let current: { path: string; branch?: string } | undefined;
    for (const field of out.split('\0')) {
      if (field.startsWith('worktree ')) {
        current = { path: field.slice('worktree '.length) };
        if (current.path.startsWith(`${this.dir}/`)) found.push(current);
      } else if (field.startsWith('branch refs/heads/') && current) {
        current.branch = field.slice('branch refs/heads/'.length);
      }
    }
    return found;
  }

  /** Branches named like an attempt's (`bearing/<task>/<n>`). */
  async attemptBranches(): Promise<string[]> {
    const out = await this.repo.ok([
      'for-each-ref',
      '--format=%(refname:short)',
      'refs/heads/bearing/',
    ]);
    return out
      .split('\n')
      .filter((b) => /^bearing\/[^/]+\/\d+$/.test(b) && b !== this.target.branch);
  }

  /** A worktree for a fresh attempt, at the target's tip: a spare if there is one, else a new one. */
  async #create(taskId: string, attempt: number): Promise<AttemptWorktree> {
    const path = this.#attemptPath(taskId, attempt);
    const branch = attemptBranch(taskId, attempt);
    // Anything a killed run left under this name goes first.
    if (existsSync(path)) await this.remove({ path, branch });
    await this.#awaitSpare();
    const spare = this.#spares.pop();
    if (spare) {
      const base = await this.#takeSpare(spare, path, branch);
      if (base) return { path, branch, base };
    }
    const base = await this.repo.exclusive('worktrees', async () => {
      const tip = await this.#tip();
      await this.repo.git(['worktree', 'prune']);
      await this.repo.ok(['worktree', 'add', '--no-checkout', '-B', branch, path, tip]);
      return tip;
    });
    // Checking the files out touches only the new worktree: outside the git
    // queues. `checkout.workers=0`: as many workers as cores.
    await this.#checkouts.run(async () => {
      const started = performance.now();
      await this.repo.ok(['-c', 'checkout.workers=0', 'reset', '-q', '--hard'], path);
      this.#checkoutMs = performance.now() - started;
    });
    return { path, branch, base };
  }

  /**
   * Make a spare the attempt's worktree, holding exactly what a new one
   * would. Returns its base, or undefined when git would not (a killed run
   * left a lock in it, say): the spare is then removed.
   */
  async #takeSpare(spare: string, path: string, branch: string): Promise<string | undefined> {
    const base = await this.repo.exclusive('worktrees', async () => {
      const tip = await this.#tip();
      return (await this.#move(spare, path)) ? tip : undefined;
    });
    if (!base) {
      await this.remove({ path: spare });
      return undefined;
    }
    // The attempt's branch at the tip, checked out over what the last
    // attempt left, touching only this worktree (outside the queues). The
    // spare holds nothing untracked or ignored since it was kept (see
    // #keepSpare), so this is all a new worktree would hold.
    const checkedOut = await this.repo.git(
      ['checkout', '-q', '-f', '-B', branch, base, '--'],
      path,
    );
    if (checkedOut.code === 0) return base;
    await this.remove({ path });
    return undefined;
  }

  async #tip(): Promise<string> {
    const tip = await this.repo.resolve(`refs/heads/${this.target.branch}`);
    if (!tip) throw new Error(`the branch ${this.target.branch} no longer exists`);
    return tip;
  }

  /**
   * Everything the attempt left in its worktree as one commit on its base,
   * including commits the agent made itself (the branch does not move: see
   * #holdOnBranch). Undefined when it changed nothing.
   */
  async #commit(wt: AttemptWorktree, message: string): Promise<string | undefined> {
    if (!existsSync(wt.path)) return wt.commit;
    // In plumbing: `git commit` would read every file's state again, and run hooks.
    const [, baseTree] = await Promise.all([
      this.repo.ok(['add', '-A'], wt.path),
      this.repo.ok(['rev-parse', `${wt.base}^{tree}`], wt.path),
    ]);
    const tree = await this.repo.ok(['write-tree'], wt.path);
    if (tree === baseTree) return undefined;
    return this.repo.ok(['commit-tree', tree, '-p', wt.base, '-F', '-'], wt.path, message);
  }

  /**
   * Work that does not land now stays on the attempt's branch, where a
   * person resolving a conflict finds it (landed work's branch just goes).
   */
  async #holdOnBranch(wt: AttemptWorktree, commit: string): Promise<void> {
    if (existsSync(wt.path)) await this.repo.ok(['reset', '-q', '--soft', commit], wt.path);
  }

  /**
   * Move the target to `landed`. Returns the files in the way when the main
   * checkout has local changes that the fast-forward would overwrite.
   */
  async #moveTarget(
    ref: string,
    landed: string,
    tip: string,
  ): Promise<string[] | 'moved' | undefined> {
    if (!this.target.checkedOut) {
      const r = await this.repo.git(['update-ref', ref, landed, tip]);
      if (r.code === 0) return undefined;
      if ((await this.repo.resolve(ref)) !== tip) return 'moved';
      throw new Error(`git update-ref failed: ${r.stderr.trim()}`);
    }
    const r = await this.repo.git(['merge', '--ff-only', '-q', '--no-stat', landed]);
    if (r.code === 0) return undefined;
    const inTheWay = overwrittenFiles(r.stderr);
    if (inTheWay.length > 0) return inTheWay;
    if ((await this.repo.resolve(ref)) !== tip) return 'moved';
    throw new Error(`git merge --ff-only failed: ${r.stderr.trim()}`);
  }

  /** Tasks whose landed commits since `base` touched these paths (from their trailers), in landing order. */
  async #tasksTouching(base: string, tip: string, paths: string[]): Promise<string[]> {
    const out = await this.repo.ok([
      'log',
      `--format=%(trailers:key=${TASK_TRAILER},valueonly,separator=%x0A)`,
      `${base}..${tip}`,
      '--',
      ...paths.map((p) => `:(literal)${p}`),
    ]);
    return [
      // git log lists the newest first: the tasks in the order they landed.
      ...new Set(
        out
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .reverse(),
      ),
    ];
  }

  async #changed(from: string, to: string): Promise<string[]> {
    return this.#projectFiles(await this.repo.filesBetween(from, to));
  }

  #projectFiles(paths: string[]): string[] {
    return paths.map((p) => this.repo.projectPath(p)).sort();
  }
}

/** The paths git lists under "Your local changes to the following files would be overwritten". */
function overwrittenFiles(stderr: string): string[] {
  const lines = stderr.split('\n');
  const start = lines.findIndex((l) => l.includes('would be overwritten'));
  if (start === -1) return [];
  const files: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('\t')) break;
    files.push(line.trim());
  }
  return files;
}

/** The commit message of a task's landed work: the task, its summary's first line, trailers. */
export function landingMessage(taskId: string, attempt: number, summary: string): string {
  const first =
    summary
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? '';
  const subject = `${taskId}: ${first.length > 100 ? `${first.slice(0, 99)}…` : first || 'done'}`;
  return `${subject}\n\n${TASK_TRAILER}: ${taskId}\nBearing-Attempt: ${attempt}\n`;
}
