# Tests of policies/rules/provenance; how the core combines modules is tested in
# policies/segmentation_test.rego, whole decisions by YAML cases (decisions_test.yaml).
package segmentation_test.rules.provenance

import data.segmentation.rules.provenance

exclusions_of(endpoints) := result if {
	result := provenance.exclusions with data.catalog.endpoints as endpoints
}

# The rules that exclude one endpoint, when it is the whole catalog.
rules_for(endpoint) := {e.rule | some e in exclusions_of([endpoint])}

digest := "781daaef902220500978403a9acd4c705e198bbf4e221e803e2fef46fe5bbaea"

on_prem(provenance) := {"id": "local", "vendor": "self", "deployment": "on_prem", "provenance": provenance}

hosted(deployment, vendor, provenance) := {
	"id": "remote", "vendor": vendor,
	"deployment": deployment, "provenance": provenance,
}

verified := {"weights_source": "huggingface.co/Qwen/Qwen3-32B", "weights_sha256": digest}

contracted := {"dpa": true, "zero_data_retention": true}

test_verified_on_prem_kept if {
	rules_for(on_prem(verified)) == set()
}

test_unpinned_weights_excluded if {
	exclusions_of([on_prem({"weights_source": "huggingface.co/Qwen/Qwen3-32B"})]) == {{
		"endpoint": "local",
		"rule": "provenance.unverified_weights",
		"message": "on-prem weights digest not pinned (provenance.weights_sha256: 64 lowercase hex)",
	}}
}

test_uppercase_digest_not_pinned if {
	rules_for(on_prem(object.union(verified, {"weights_sha256": upper(digest)}))) == {"provenance.unverified_weights"}
}

test_short_digest_not_pinned if {
	rules_for(on_prem(object.union(verified, {"weights_sha256": substring(digest, 0, 63)}))) == {"provenance.unverified_weights"}
}

test_untrusted_source_excluded if {
	rules_for(on_prem(object.union(verified, {"weights_source": "huggingface.co/someone/Qwen3-32B"}))) == {"provenance.untrusted_source"}
}

test_missing_source_excluded if {
	rules_for(on_prem({"weights_sha256": digest})) == {"provenance.untrusted_source"}
}

test_no_provenance_at_all if {
	rules_for({"id": "local", "deployment": "on_prem"}) == {"provenance.unverified_weights", "provenance.untrusted_source"}
}

test_source_with_https_scheme_trusted if {
	rules_for(on_prem(object.union(verified, {"weights_source": "https://huggingface.co/deepseek-ai/DeepSeek-V3"}))) == set()
}

test_source_climbing_out_of_prefix_untrusted if {
	rules_for(on_prem(object.union(verified, {"weights_source": "huggingface.co/Qwen/../evil/model"}))) == {"provenance.untrusted_source"}
}

test_every_trusted_prefix if {
	sources := [
		"huggingface.co/Qwen/a", "huggingface.co/deepseek-ai/a", "huggingface.co/zai-org/a",
		"huggingface.co/THUDM/a", "huggingface.co/meta-llama/a", "huggingface.co/mistralai/a",
	]
	endpoints := [object.union(on_prem(object.union(verified, {"weights_source": s})), {"id": s}) | some s in sources]
	exclusions_of(endpoints) == set()
}

test_approved_public_vendor_kept if {
	rules_for(hosted("public_hosted", "DeepSeek", {})) == set()
}

test_unapproved_vendor_excluded if {
	exclusions_of([hosted("public_hosted", "Acme AI", {})]) == {{
		"endpoint": "remote",
		"rule": "provenance.unapproved_vendor",
		"message": "hosted endpoint of vendor Acme AI, which is not approved",
	}}
}

test_missing_vendor_excluded if {
	some e in exclusions_of([{"id": "remote", "deployment": "public_hosted"}])
	e.message == "hosted endpoint of vendor (none), which is not approved"
}

test_every_approved_vendor if {
	vendors := ["OpenAI", "DeepSeek", "Alibaba Cloud", "Zhipu AI", "Together AI", "Fireworks AI"]
	exclusions_of([object.union(hosted("public_hosted", v, {}), {"id": v}) | some v in vendors]) == set()
}

test_trusted_hosted_under_contract_kept if {
	rules_for(hosted("trusted_hosted", "Together AI", contracted)) == set()
}

test_trusted_hosted_without_dpa_excluded if {
	rules_for(hosted("trusted_hosted", "Together AI", {"zero_data_retention": true})) == {"provenance.no_dpa"}
}

test_trusted_hosted_dpa_must_be_true if {
	rules_for(hosted("trusted_hosted", "Together AI", {"dpa": "yes", "zero_data_retention": true})) == {"provenance.no_dpa"}
}

test_trusted_hosted_without_retention_excluded if {
	rules_for(hosted("trusted_hosted", "Together AI", {"dpa": true})) == {"provenance.no_zero_data_retention"}
}

test_trusted_hosted_unapproved_vendor_without_contract if {
	rules_for(hosted("trusted_hosted", "Acme AI", {})) == {
		"provenance.unapproved_vendor", "provenance.no_dpa", "provenance.no_zero_data_retention",
	}
}

test_public_hosted_needs_no_contract if {
	rules_for(hosted("public_hosted", "OpenAI", {"dpa": false})) == set()
}

test_unknown_deployment_excluded if {
	rules_for({"id": "odd", "vendor": "OpenAI", "deployment": "edge"}) == {"provenance.unknown_deployment"}
}

test_missing_deployment_excluded if {
	rules_for({"id": "odd", "vendor": "OpenAI"}) == {"provenance.unknown_deployment"}
}
