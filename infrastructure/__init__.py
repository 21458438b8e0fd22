"""Infrastructure: resource definitions shared by the AWS template and the local cloud."""
