# Segmentation core: aggregates the contributions of every rule module into one decision.
#
# A rule module is any package directly under `segmentation.rules` (for example
# `package segmentation.rules.isolation`). It takes part in every decision by contributing to
# any of these collections (sets or arrays); nothing here needs to change when one is added:
#
#   isolation    {"rule": id, "segment": "any"|"trusted_hosted"|"on_prem_only", "message": text}
#   exclusions   {"endpoint": catalog id, "rule": id, "message": text}
#   obligations  strings, e.g. "redact:EMAIL_ADDRESS"
#
# The strictest segment wins; no contribution means "any". Anything malformed fails closed,
# with a reason from rule segmentation.invalid_contribution: an isolation entry with an
# unknown segment or without string rule and message counts as on_prem_only; an exclusion
# without an endpoint id excludes every endpoint; a non-string obligation, or a contribution
# that is not a collection, makes the decision on_prem_only.
#
# Reasons are sorted by rule, message and segment, exclusions by endpoint, rule and message,
# obligations alphabetically, so that equal inputs give equal decisions.
# See policies/README.md for the constructs that the embedded engine mishandles.
package segmentation

decision := {
	"segment": segment_names[level],
	"reasons": [{"rule": r[0], "message": r[1], "segment": r[2]} | some r in reason_keys],
	"excluded": [{"endpoint": x[0], "rule": x[1], "message": x[2]} | some x in exclusion_keys],
	"obligations": [o | some o in sort(valid_obligations)],
}

# Segments in order of restrictiveness; the decision's is the highest index reached.
segment_names := ["any", "trusted_hosted", "on_prem_only"]

level := max(array.concat([segment_rank(key[2]) | some key in reason_keys], [0]))

segment_rank(segment) := rank if {
	some rank, name in segment_names
	name == segment
}

# ------------------------------------------------------------------ contributions
# Every package directly under segmentation.rules, read once per decision. (Test packages
# must live elsewhere, e.g. segmentation_test.rules.*: here they would be rule modules.)

rule_modules := {name: module | some name; module := data.segmentation.rules[name]}

isolation_by_module := {name: value | some name; value := rule_modules[name].isolation}

exclusions_by_module := {name: value | some name; value := rule_modules[name].exclusions}

obligations_by_module := {name: value | some name; value := rule_modules[name].obligations}

# ------------------------------------------------------------------ reasons
# (Each comprehension names its own variables: regopy confuses names reused across nested
# comprehensions.)

reason_keys := sort(((well_formed_reasons | malformed_reasons) | invalid_reasons))

well_formed_reasons := {[entry.rule, entry.message, entry.segment] |
	some module
	some entry in isolation_by_module[module]
	well_formed(entry)
}

malformed_reasons := {[invalid_rule, concat("", [contributor(module, bad), ": ", problem(bad), fail_closed]), "on_prem_only"] |
	some module
	some bad in isolation_by_module[module]
	not well_formed(bad)
}

well_formed(entry) if {
	is_string(entry.rule)
	is_string(entry.message)
	known_segment(entry.segment)
}

known_segment(segment) if segment in segment_names

problem(entry) := concat("", ["unknown segment ", entry.segment]) if {
	is_string(entry.segment)
	not known_segment(entry.segment)
} else := "isolation entry needs string rule, message and segment"

invalid_reasons contains [invalid_rule, not_a_collection(module, "isolation"), "on_prem_only"] if {
	some module
	value := isolation_by_module[module]
	not is_collection(value)
}

invalid_reasons contains [invalid_rule, not_a_collection(module, "exclusions"), "on_prem_only"] if {
	some module
	value := exclusions_by_module[module]
	not is_collection(value)
}

invalid_reasons contains [invalid_rule, not_a_collection(module, "obligations"), "on_prem_only"] if {
	some module
	value := obligations_by_module[module]
	not is_collection(value)
}

invalid_reasons contains [invalid_rule, message, "on_prem_only"] if {
	some module
	some entry in exclusions_by_module[module]
	not names_endpoint(entry)
	message := concat("", [contributor(module, entry), ": exclusion without an endpoint id excludes every endpoint", fail_closed])
}

invalid_reasons contains [invalid_rule, message, "on_prem_only"] if {
	some module
	some entry in obligations_by_module[module]
	not is_string(entry)
	message := concat("", ["segmentation.rules.", module, ": obligation that is not a string", fail_closed])
}

is_collection(value) if is_set(value)

is_collection(value) if is_array(value)

not_a_collection(module, kind) := concat("", ["segmentation.rules.", module, ".", kind, " is not a set", fail_closed])

invalid_rule := "segmentation.invalid_contribution"

fail_closed := ": treated as on_prem_only (fail closed)"

# Who contributed an entry: its rule id when it has one, else its module.
contributor(module, entry) := entry.rule if {
	is_string(entry.rule)
} else := concat("", ["segmentation.rules.", module])

# ------------------------------------------------------------------ exclusions

exclusion_keys := sort(named_exclusions | unnamed_exclusions)

named_exclusions := {[entry.endpoint, contributor(module, entry), exclusion_message(entry)] |
	some module
	some entry in exclusions_by_module[module]
	names_endpoint(entry)
}

# (A function, not `not is_string(entry.endpoint)`: OPA does not count a built-in call on an
# undefined reference as false, so `not` of it would never hold there.)
names_endpoint(entry) if is_string(entry.endpoint)

# An exclusion that names no endpoint excludes them all (fail closed).
unnamed_exclusions := {[endpoint.id, invalid_rule, why] |
	some source
	some broken in exclusions_by_module[source]
	not names_endpoint(broken)
	some endpoint in data.catalog.endpoints
	why := concat("", [contributor(source, broken), " gave an exclusion without an endpoint id (fail closed)"])
}

exclusion_message(entry) := entry.message if {
	is_string(entry.message)
} else := "excluded (the exclusion gave no message)"

# ------------------------------------------------------------------ obligations

valid_obligations := {entry | some module; some entry in obligations_by_module[module]; is_string(entry)}
