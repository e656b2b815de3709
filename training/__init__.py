"""What the product trains on its own data: the reader (`make train`)."""
