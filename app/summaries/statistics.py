"""Uncertainty from the sums the database returns: no summary loads rows to compute it.

Each interval is a two-sided 95% interval from Student's t distribution, whose quantile
comes from SciPy (`scipy.special.stdtrit`, which accepts the fractional degrees of freedom
Welch's interval has). The sums are of integers (moods), so the sample variances are
computed exactly from them before the one division.
"""

import math

from scipy.special import stdtrit

CONFIDENCE = 0.95
ENOUGH = 3  # entries on each side before a comparison is more than an anecdote

Interval = tuple[float, float]


def t_quantile(degrees_of_freedom: float) -> float:
    """The t quantile that leaves (1 − CONFIDENCE) / 2 above it."""
    return float(stdtrit(degrees_of_freedom, 1 - (1 - CONFIDENCE) / 2))


def _variance(n: int, total: int, squares: int) -> float:
    """The sample variance of `n` integers from their sum and sum of squares."""
    return (n * squares - total * total) / (n * (n - 1))


def welch_interval(
    n1: int, sum1: int, squares1: int, n2: int, sum2: int, squares2: int
) -> Interval | None:
    """Welch's interval for the difference of two means (mean 1 − mean 2), from each
    sample's size, sum and sum of squares; None when either has fewer than 2 values."""
    if n1 < 2 or n2 < 2:
        return None
    difference = sum1 / n1 - sum2 / n2
    a, b = _variance(n1, sum1, squares1) / n1, _variance(n2, sum2, squares2) / n2
    if a + b == 0:  # both samples constant: the difference is known exactly
        return (difference, difference)
    degrees = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    half = t_quantile(degrees) * math.sqrt(a + b)
    return (difference - half, difference + half)


def enough(n1: int, n2: int) -> bool:
    """Whether a comparison of two groups has at least ENOUGH entries on each side."""
    return n1 >= ENOUGH and n2 >= ENOUGH


def slope(n: int, sum_x: float, sum_y: float, sum_xx: float, sum_xy: float) -> float | None:
    """Least-squares slope of y on x; undefined with fewer than two distinct x."""
    spread = n * sum_xx - sum_x * sum_x
    if n < 2 or spread <= 1e-12 * max(1.0, n * sum_xx):
        return None
    return (n * sum_xy - sum_x * sum_y) / spread


def slope_interval(
    n: int, sum_x: float, sum_y: float, sum_xx: float, sum_xy: float, sum_yy: float
) -> Interval | None:
    """The interval of the least-squares slope (t with n − 2 degrees of freedom); None with
    fewer than three points or fewer than two distinct x."""
    estimate = slope(n, sum_x, sum_y, sum_xx, sum_xy)
    if estimate is None or n < 3:
        return None
    s_xx = sum_xx - sum_x * sum_x / n
    s_xy = sum_xy - sum_x * sum_y / n
    s_yy = sum_yy - sum_y * sum_y / n
    residual = max(0.0, s_yy - estimate * s_xy) / (n - 2)
    half = t_quantile(n - 2) * math.sqrt(residual / s_xx)
    return (estimate - half, estimate + half)
