"""FizzBuzz: the classic warm-up exercise, written to be easy to read."""


def fizzbuzz(n):
    """Return what to say for the number n."""
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    return str(n)


for number in range(1, 101):
    print(fizzbuzz(number))
