"""Code packaged with the Chalice API (routes and HTTP glue); domain logic lives in quantdesk."""
