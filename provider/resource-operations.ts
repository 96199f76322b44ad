import type * as pulumi from "@pulumi/pulumi";

/**
 * What a resource's provider does, as Pulumi's provider host calls it. `read`
 * returns `inputs` too, so that a refresh records what the resource now is
 * and the next diff compares the program with that.
 */
export interface ResourceOperations<Inputs, Outputs> {
  check(olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>>;
  diff(id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult>;
  create(inputs: Inputs): Promise<{ id: string; outs: Outputs }>;
  read(id: string, props?: Outputs): Promise<{ id?: string; props?: Outputs; inputs?: Inputs }>;
  update(id: string, olds: Outputs, news: Inputs): Promise<{ outs: Outputs }>;
  delete(id: string, props: Outputs): Promise<void>;
}
