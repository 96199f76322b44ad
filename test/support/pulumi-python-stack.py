"""Runs one Automation API command on a stack whose program is a Python file, run inline.

The Python Automation API serves the Python language runtime in this process and hands the
`pulumi` CLI its address, as a user's inline program does; the file runs as `pulumi` would run
a project's __main__.py. Usage: python pulumi-python-stack.py '<request as JSON>'; prints the
result as JSON on the last line of stdout.
"""

import json
import runpy
import sys

import pulumi.automation as auto

request = json.loads(sys.argv[1])


def program():
    runpy.run_path(request["program"], run_name="__main__")


stack = auto.create_or_select_stack(
    stack_name=request["stackName"],
    project_name=request["projectName"],
    program=program,
    opts=auto.LocalWorkspaceOptions(
        work_dir=request["workDir"],
        pulumi_home=request["pulumiHome"],
        env_vars=request["env"],
        pulumi_command=auto.PulumiCommand(root=request["pulumiRoot"]),
    ),
)

command = request["command"]
if command == "set-config":
    stack.set_config(request["key"], auto.ConfigValue(value=request["value"], secret=request.get("secret", False)))
    result = None
elif command == "up":
    up = stack.up(on_output=lambda line: sys.stderr.write(line + "\n"))
    result = {"outputs": {key: output.value for key, output in up.outputs.items()}, "changes": up.summary.resource_changes}
elif command == "preview":
    result = {"changes": stack.preview().change_summary}
elif command == "refresh":
    result = {"changes": stack.refresh().summary.resource_changes}
elif command == "export":
    result = {"deployment": stack.export_stack().deployment}
elif command == "destroy":
    stack.destroy()
    result = None
else:
    raise SystemExit(f"unknown command {command}")

print(json.dumps(result, default=str))
