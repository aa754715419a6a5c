"""The provider kit: all a provider service does besides its domain (docs/provider-kit.md)."""
