from django.apps import AppConfig


class McpConfig(AppConfig):
    name = "copywriter.mcp"
    label = "mcp"
    verbose_name = "MCP server"
