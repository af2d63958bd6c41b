"""Worked solutions for module 3 (locked until the end of the course)."""

import csv


def fizzbuzz(n):
    return "Fizz" * (n % 3 == 0) + "Buzz" * (n % 5 == 0) or str(n)


def temperature_report(path="temperatures.csv"):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            stars = "*" * round(float(row["mean_temperature_c"]))
            print(f"{row['month']:<10} {stars}")


if __name__ == "__main__":
    print(", ".join(fizzbuzz(n) for n in range(1, 16)))
    temperature_report()
