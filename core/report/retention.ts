import type { RetentionDecision } from "../schedule/retention.js";
import { formatUtc } from "./format.js";

/** One backup's retention decision as a front end shows it. */
export interface DecisionRow {
  name: string;
  trigger: string;
  status: string;
  started: string;
  /** `keep`, the deletion (`deleted`, `would delete`) or `delete FAILED`. */
  action: string;
  rule: string;
  reason: string;
}

export function decisionRow(decision: RetentionDecision, run: { dryRun: boolean; failed: ReadonlySet<string> }): DecisionRow {
  const deletion = run.dryRun ? "would delete" : "deleted";
  return {
    name: decision.name,
    trigger: decision.trigger,
    status: decision.status,
    started: formatUtc(decision.startedAt),
    action: decision.action === "keep" ? "keep" : run.failed.has(decision.name) ? "delete FAILED" : deletion,
    rule: decision.rule,
    reason: decision.reason,
  };
}

export function decisionJson(decision: RetentionDecision) {
  return {
    name: decision.name,
    trigger: decision.trigger,
    status: decision.status,
    startedAt: decision.startedAt.toISOString(),
    action: decision.action,
    rule: decision.rule,
    reason: decision.reason,
  };
}
