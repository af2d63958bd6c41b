# hello.py - your first Python program.
# Run it with:  python3 hello.py

name = input("What is your name? ")
print("Hello,", name + "!")
print("Welcome to CS 110.")
