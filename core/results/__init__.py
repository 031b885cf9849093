"""Results: training runs and their records, the sweep, comparisons, the article's figures, QPU cost estimates."""
