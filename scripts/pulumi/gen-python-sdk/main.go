// pulumi-gen-python-sdk writes the Python SDK of a Pulumi package schema with Pulumi's own Python code
// generator (github.com/pulumi/pulumi/pkg/v3/codegen/python), the one `pulumi package gen-sdk --language
// python` runs inside the pulumi-language-python host. It serves where that host cannot be installed.
//
// Usage: pulumi-gen-python-sdk SCHEMA.json OUT_DIR   (writes OUT_DIR/python, as gen-sdk --out OUT_DIR does)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: %s SCHEMA.json OUT_DIR", filepath.Base(os.Args[0])))
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(text, &spec); err != nil {
		fail(fmt.Errorf("%s is not a package schema: %w", os.Args[1], err))
	}
	pkg, diagnostics, err := schema.BindSpec(spec, noDependencies{}, schema.ValidationOptions{})
	if err != nil {
		fail(err)
	}
	if diagnostics.HasErrors() {
		fail(diagnostics)
	}
	files, err := python.GeneratePackage("pulumi-gen-python-sdk", pkg, nil, noDependencies{})
	if err != nil {
		fail(err)
	}
	for name, content := range files {
		path := filepath.Join(os.Args[2], "python", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fail(err)
		}
	}
}

// noDependencies loads no other package: a schema that refers to one is refused.
type noDependencies struct{}

func (noDependencies) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema refers to the package %s; only self-contained schemas are supported", name)
}

func (l noDependencies) LoadPackageV2(_ context.Context, descriptor *schema.PackageDescriptor) (*schema.Package, error) {
	return l.LoadPackage(descriptor.Name, nil)
}

func (l noDependencies) LoadPackageReference(name string, version *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema refers to the package %s; only self-contained schemas are supported", name)
}

func (l noDependencies) LoadPackageReferenceV2(_ context.Context, descriptor *schema.PackageDescriptor) (schema.PackageReference, error) {
	return l.LoadPackageReference(descriptor.Name, nil)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-gen-python-sdk: %v\n", err)
	os.Exit(1)
}
