"""quantdesk: serverless, prompt-driven quant research."""
