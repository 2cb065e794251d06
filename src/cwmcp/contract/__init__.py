"""Reusable contract tests: subclass them to check an adapter (or a deployment) keeps its promises."""
