# Routing by task (an add-on: copy this directory into policies/rules/).
#
# The tier is chosen from the request's purpose and the size of the task (input.task:
# prompt_tokens, output_tokens, total_tokens): short routine tasks go to the practical
# tier, legal and incident work to the advanced one. A tier only orders the endpoints the
# decision allows (cheapest of the tier first); a request that names its own tier
# (context.tier) keeps it. Long documents go only to endpoints with a 200K context window.
package segmentation.rules.routing

obligations contains "tier:practical" if {
	input.context.purpose in ["classification", "extraction", "translation", "summarization"]
	input.task.total_tokens <= routine_task_tokens
}

obligations contains "tier:advanced" if {
	input.context.purpose in ["legal_review", "incident_response"]
}

exclusions contains {
	"endpoint": endpoint.id,
	"rule": "routing.long_documents",
	"message": "a document of over 50000 tokens goes to an endpoint with a context window of 200000 tokens or more",
} if {
	input.task.prompt_tokens > long_document_tokens
	some endpoint in data.catalog.endpoints
	endpoint.context_window < 200000
}

# The largest task (prompt and output tokens) the practical tier gets.
routine_task_tokens := 8000

# Prompts longer than this are long documents.
long_document_tokens := 50000
