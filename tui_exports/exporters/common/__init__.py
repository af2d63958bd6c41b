"""Helpers shared by the package writers (CC and QTI): ids, links, XML, zip, manifest."""
