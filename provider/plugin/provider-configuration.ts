import * as grpc from "@grpc/grpc-js";
import type { ConfigureRequest } from "@pulumi/pulumi/proto/provider_pb.js";
import { withoutSecrets } from "./secrets.js";

/** The provider's configuration: `app-backup:*` in the stack's config, or a provider resource's inputs. */
export interface ProviderConfiguration {
  /** The default storage of resources that have no `storage` input. */
  storage?: string;
}

type Listener = (configuration: ProviderConfiguration) => void;

/**
 * Calls `listener` with the configuration the engine sends in `Configure`.
 *
 * `@pulumi/pulumi/provider` answers `Configure` itself and drops the
 * configuration, and its `Provider` has no method to receive it; the only
 * place to read it is the gRPC service the SDK registers, so the registration
 * is wrapped to see each `Configure` request before the SDK answers it.
 */
export function onConfigure(listener: Listener): void {
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (this: grpc.Server, service, implementation) {
    const configure = (implementation as Record<string, unknown>).configure as grpc.handleUnaryCall<ConfigureRequest, unknown> | undefined;
    if (typeof configure === "function") {
      (implementation as Record<string, unknown>).configure = (call: grpc.ServerUnaryCall<ConfigureRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        listener(configurationOf(call.request));
        return configure.call(implementation, call, callback);
      };
    }
    return addService.call(this, service, implementation);
  };
}

function configurationOf(request: ConfigureRequest): ProviderConfiguration {
  const args = withoutSecrets(request.getArgs()?.toJavaScript() as Record<string, unknown> | undefined).values;
  const variables = request.getVariablesMap();
  const storage = args.storage ?? variables.get("app-backup:config:storage") ?? variables.get("app-backup:storage");
  return typeof storage === "string" && storage !== "" ? { storage } : {};
}
