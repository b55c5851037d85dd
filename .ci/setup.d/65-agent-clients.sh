# The real agent clients that tests/integrations drive (pinned in .ci/agent-clients/), with
# npm from the machine. The MCP Inspector CLI is installed here too, for every test that uses it.
agent_clients() { bash .ci/agent-clients/install.sh; }
STARTERS+=(agent_clients)
