"""Evaluation: metrics, dataset adapters for ../shared/data, baselines and benchmark runners."""
