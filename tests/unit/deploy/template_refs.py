"""What a template resource refers to (Ref, Fn::GetAtt, ${…} in Fn::Sub, DependsOn)."""

from __future__ import annotations

import re
from typing import Any

SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(node: Any) -> set[str]:
    """Logical ids (and pseudo-parameters) named anywhere in ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else value.split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= set(SUB_NAME.findall(text))
                if isinstance(value, list):
                    found |= references(value[1])
            elif key == "DependsOn":
                found |= {value} if isinstance(value, str) else set(value)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def without(template: dict[str, Any], unsupported: set[str]) -> tuple[dict[str, Any], set[str]]:
    """The template less the resources of ``unsupported`` types and everything that refers to
    them (transitively); returns it and the logical ids dropped."""
    resources = dict(template["Resources"])
    dropped = {k for k, v in resources.items() if v["Type"] in unsupported}
    while True:
        more = {k for k, v in resources.items() if k not in dropped and references(v) & dropped}
        if not more:
            break
        dropped |= more
    kept = {**template, "Resources": {k: v for k, v in resources.items() if k not in dropped}}
    kept["Outputs"] = {
        k: v for k, v in template.get("Outputs", {}).items() if not references(v) & dropped
    }
    return kept, dropped
