"""`waitbus bridge nats`: this bus exported to, and imported from, a NATS JetStream stream."""
