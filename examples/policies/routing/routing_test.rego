# Tests of the routing example module (examples/policies/routing).
package segmentation_test.rules.routing

import data.segmentation.rules.routing

routing_obligations_of(purpose, total_tokens) := obligations if {
	obligations := routing.obligations with input.context as {"purpose": purpose}
		with input.task as {"prompt_tokens": total_tokens, "output_tokens": 0, "total_tokens": total_tokens}
}

# (The catalog is written out here: the embedded engine ignores a `with` value that is a
# rule of the test package.)
excluded_for(prompt_tokens) := excluded if {
	task := {"prompt_tokens": prompt_tokens, "output_tokens": 512, "total_tokens": prompt_tokens + 512}
	excluded := {e.endpoint | some e in routing.exclusions} with input.task as task
		with data.catalog.endpoints as [
			{"id": "small", "context_window": 32768},
			{"id": "long", "context_window": 204800},
		]
}

test_short_routine_work_is_practical if {
	routing_obligations_of("summarization", 1200) == {"tier:practical"}
}

test_long_routine_work_is_not_practical if {
	count(routing_obligations_of("summarization", 20000)) == 0
}

test_legal_work_is_advanced if {
	routing_obligations_of("legal_review", 300) == {"tier:advanced"}
}

test_other_purposes_choose_no_tier if {
	count(routing_obligations_of("chat", 300)) == 0
}

test_long_documents_need_a_long_context if {
	excluded_for(60000) == {"small"}
}

test_short_documents_exclude_nothing if {
	count(excluded_for(2000)) == 0
}
