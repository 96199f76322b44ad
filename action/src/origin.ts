/** The parts of `@actions/github`'s context a backup records. */
export interface RunContext {
  sha: string;
  ref: string;
  workflow: string;
  actor: string;
  eventName: string;
  runId: number;
  runAttempt: number;
  serverUrl: string;
  repo: { owner: string; repo: string };
}

/**
 * Where a backup was made, for its manifest: the repository, commit and ref,
 * the workflow run (with a link to it) and who started it. Empty values are
 * left out, so a run outside GitHub records only what it knows.
 */
export function originFromContext(context: RunContext): Record<string, string> {
  const repository = context.repo.owner && context.repo.repo ? `${context.repo.owner}/${context.repo.repo}` : "";
  const runId = context.runId ? String(context.runId) : "";
  const origin: Record<string, string> = {
    source: "github-actions",
    repository,
    sha: context.sha,
    ref: context.ref,
    workflow: context.workflow,
    event: context.eventName,
    runId,
    runAttempt: context.runAttempt ? String(context.runAttempt) : "",
    runUrl: repository && runId ? `${context.serverUrl.replace(/\/+$/, "")}/${repository}/actions/runs/${runId}` : "",
    actor: context.actor,
  };
  return Object.fromEntries(Object.entries(origin).filter(([, value]) => value));
}

/** Reads the context without failing when GITHUB_REPOSITORY is unset (a run outside GitHub). */
export function runContextOf(context: Omit<RunContext, "repo"> & { readonly repo: RunContext["repo"] }): RunContext {
  let repo = { owner: "", repo: "" };
  try {
    repo = context.repo;
  } catch {
    // `context.repo` throws without GITHUB_REPOSITORY; the origin then has no repository.
  }
  return {
    sha: context.sha ?? "",
    ref: context.ref ?? "",
    workflow: context.workflow ?? "",
    actor: context.actor ?? "",
    eventName: context.eventName ?? "",
    runId: context.runId,
    runAttempt: context.runAttempt,
    serverUrl: context.serverUrl ?? "https://github.com",
    repo,
  };
}
