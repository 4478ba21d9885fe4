"""``silo.sdk``: what function code imports to use the platform from inside its own account.

from silo.sdk import Client

def handler(event, context):
    orders = Client().table("orders")
    orders.put_item(Item={"id": event["id"], "state": "NEW"}, ConditionExpression="attribute_not_exists(id)")
    return Client().invoke("enrich", {"id": event["id"]})
"""

from silo.sdk.client import Client, FunctionError, SiloClientError

__all__ = ["Client", "FunctionError", "SiloClientError"]
